//! Reward policies as data, and the pure computation of a reward from one policy.
//!
//! DOMAIN §5 (Rewards): the reward is a share of the verified case value (查实金额, integer
//! fen) computed by the scheme that the policy in force defines — marginal brackets, a rate by
//! evidence grade, or fixed bands — then an insider uplift, then (for a case a supervisor
//! marked "heavy", 重奖) a policy multiplier, then the floor, then the cap. A tip that was
//! true but caused no loss gets an amount the decision sets inside the policy's no-loss range.
//! The reward states how it was computed so finance and auditors can recompute it:
//! [`Computation`] serializes every bracket line, the uplift, the multiplier, floor and cap.
//!
//! Policies live in TOML files under `config/rewards/`, one policy per file; see
//! [`Policy::from_toml_str`] for the format and the checks made when loading. All money is
//! `i64` fen (1 yuan = 100 fen) and every rate is in basis points (1 bp = 0.01%): no floats.

mod compute;
mod format;
mod set;

pub use compute::*;
pub use set::*;

use std::cmp::Ordering;
use std::fmt;
use std::ops::Range;
use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// 100% in basis points.
pub const BP_ONE: i64 = 10_000;

/// The rounding rule, as recorded in every [`Computation`].
///
/// Each line is computed exactly as `base × rate_bp / 10000` (in 128-bit integers) and rounded
/// half up to whole fen; the heavy multiplier is applied to the subtotal as
/// `subtotal × pct / 100`, rounded half up the same way; then the floor, then the cap. Every
/// step is a non-decreasing function of its input, so the reward never drops when the
/// verified amount grows.
pub const ROUNDING_RULE: &str =
    "each line = base_fen * rate_bp / 10000 rounded half up to whole fen; \
     subtotal = sum of lines; heavy: subtotal * heavy_multiplier_pct / 100 rounded half up; \
     then max(floor_fen), then min(cap_fen)";

// ---------------------------------------------------------------------------------------------
// Domain types
// ---------------------------------------------------------------------------------------------

/// Evidence grade decided by the handler (e.g. Fujian 2024: 一级 = A, 二级 = B, 三级 = C).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Grade {
    A,
    B,
    C,
}

/// One marginal bracket: `rate_bp` applies to the part of the verified amount between the
/// previous bracket's `up_to_fen` (0 for the first) and this one's; `None` = open, last only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bracket {
    pub up_to_fen: Option<i64>,
    pub rate_bp: i64,
}

/// Rates by evidence grade, in basis points of the verified amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GradeRates {
    pub a_bp: i64,
    pub b_bp: i64,
    pub c_bp: i64,
}

impl GradeRates {
    pub fn rate_bp(&self, grade: Grade) -> i64 {
        match grade {
            Grade::A => self.a_bp,
            Grade::B => self.b_bp,
            Grade::C => self.c_bp,
        }
    }
}

/// A fixed-amount band: verified amounts in `[from_fen, to_fen)` get `reward_fen`;
/// `to_fen = None` = open, last only. Bands start at 0 and are contiguous.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Band {
    pub from_fen: i64,
    pub to_fen: Option<i64>,
    pub reward_fen: i64,
}

/// How the scheme part of the reward is computed (DOMAIN §5: "marginal brackets", "rate by
/// evidence grade" or "fixed bands").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    Marginal(Vec<Bracket>),
    Grade(GradeRates),
    Bands(Vec<Band>),
}

/// A validated reward policy. Build it with [`Policy::from_toml_str`] or a [`PolicySet`]
/// loader; a value built by hand is not validated (compute stays panic-free regardless).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub id: String,
    pub version: u32,
    /// Six-digit administrative code; trailing `00` pairs are wildcards (see [`Policy::covers`]).
    pub region: String,
    pub effective_from: NaiveDate,
    /// Last day in force (inclusive); `None` = open-ended.
    pub effective_to: Option<NaiveDate>,
    pub cap_fen: i64,
    pub floor_fen: i64,
    pub scheme: Scheme,
    /// Insider uplift. Marginal: added to every bracket's rate. Grade: added to the grade
    /// rate. Bands: a percentage (in bp) of the band amount added on top (2000 = +20%).
    pub insider_uplift_bp: i64,
    /// Heavy-reward (重奖) multiplier in percent (150 = ×1.5), applied before the cap.
    pub heavy_multiplier_pct: i64,
    pub no_loss_min_fen: i64,
    pub no_loss_max_fen: i64,
    /// Rewards strictly above this also need a supervisor's approval (DOMAIN §5 Finance).
    pub approval_threshold_fen: Option<i64>,
    /// Claim window in calendar days after the notice (default 60: "2 months" nationally).
    pub claim_days: u32,
    /// Working days to notify the reporter after approval (default 5).
    pub notice_working_days: u32,
    /// Rewards strictly above this need a collective-decision record and a legal review
    /// before approval (DOMAIN §5); `None`: only the recovered-amount rule applies.
    pub collective_threshold_fen: Option<i64>,
    /// Quick reward (快奖): working days from the proposal to its approval (default 3) and
    /// from the reporter's claim to the payment (default 5).
    pub quick_approve_working_days: u32,
    pub quick_pay_working_days: u32,
    /// The file (or name) the policy was loaded from, for error messages and audits.
    pub source: String,
}

impl Policy {
    /// The region prefix this policy covers: the code with trailing `00` pairs removed
    /// ("510000" → "51", "510100" → "5101", "000000" → "" which covers everything).
    pub fn region_prefix(&self) -> &str {
        region_prefix(&self.region)
    }

    /// `id@version`, as recorded on the reward clocks it sets.
    pub fn label(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }

    /// Whether a reward of `amount_fen` needs a collective decision and legal review.
    pub fn needs_collective(&self, amount_fen: i64) -> bool {
        self.collective_threshold_fen
            .is_some_and(|t| amount_fen > t)
    }

    /// Whether a reward of `amount_fen` also needs a supervisor's approval.
    pub fn needs_supervisor(&self, amount_fen: i64) -> bool {
        self.approval_threshold_fen.is_some_and(|t| amount_fen > t)
    }
}

fn is_region_code(code: &str) -> bool {
    crate::dated::is_region_code(code)
}

impl crate::dated::Dated for Policy {
    fn id(&self) -> &str {
        &self.id
    }
    fn version(&self) -> u32 {
        self.version
    }
    fn region_prefix(&self) -> &str {
        Policy::region_prefix(self)
    }
    fn effective_from(&self) -> NaiveDate {
        self.effective_from
    }
    fn effective_to(&self) -> Option<NaiveDate> {
        self.effective_to
    }
}

fn region_prefix(code: &str) -> &str {
    crate::domain::region::region_prefix(code)
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// A policy that could not be loaded. `Invalid` names the file and the 1-based line.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: policy {id} version {version} is also defined in {other}")]
    Duplicate {
        file: String,
        other: String,
        id: String,
        version: u32,
    },
}

impl PolicyError {
    /// The line the error points at, for `Invalid`.
    pub fn line(&self) -> Option<usize> {
        match self {
            PolicyError::Invalid { line, .. } => Some(*line),
            _ => None,
        }
    }
}

/// Why a reward could not be computed from the inputs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComputeError {
    #[error("verified amount must not be negative (got {0} fen)")]
    NegativeVerified(i64),
    #[error("no-loss amount must not be negative (got {0} fen)")]
    NegativeNoLossAmount(i64),
    #[error("verified amount is 0 (no loss): the decision must set a no-loss amount")]
    NoLossAmountRequired,
    #[error("no-loss amount {amount} fen is outside the policy range {min}..={max} fen")]
    NoLossAmountOutOfRange { amount: i64, min: i64, max: i64 },
    #[error("a no-loss amount was given but the verified amount is {0} fen (a loss)")]
    NoLossAmountWithLoss(i64),
    #[error("policy {0} rates by evidence grade: a grade is required")]
    GradeRequired(String),
}

#[cfg(test)]
mod tests;
