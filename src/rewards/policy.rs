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

    /// Whether this policy's region covers `region_code` (a 6-digit administrative code).
    pub fn covers(&self, region_code: &str) -> bool {
        is_region_code(region_code) && region_code.starts_with(self.region_prefix())
    }

    /// Whether the policy is in force on `date` (`effective_from ..= effective_to`).
    /// `id@version`, as recorded on the reward clocks it sets.
    pub fn label(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }

    /// Whether a reward of `amount_fen` needs a collective decision and legal review.
    pub fn needs_collective(&self, amount_fen: i64) -> bool {
        self.collective_threshold_fen
            .is_some_and(|t| amount_fen > t)
    }

    pub fn in_force_on(&self, date: NaiveDate) -> bool {
        date >= self.effective_from && self.effective_to.map_or(true, |to| date <= to)
    }

    /// Whether a reward of `amount_fen` also needs a supervisor's approval.
    pub fn needs_supervisor(&self, amount_fen: i64) -> bool {
        self.approval_threshold_fen.is_some_and(|t| amount_fen > t)
    }
}

fn is_region_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

fn region_prefix(code: &str) -> &str {
    let mut p = code;
    while let Some(rest) = p.strip_suffix("00") {
        p = rest;
    }
    p
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

// ---------------------------------------------------------------------------------------------
// TOML format
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    id: Spanned<String>,
    version: Spanned<u32>,
    region: Spanned<String>,
    effective_from: Spanned<toml::value::Datetime>,
    effective_to: Option<Spanned<toml::value::Datetime>>,
    cap_fen: Spanned<i64>,
    floor_fen: Spanned<i64>,
    scheme: RawScheme,
    insider_uplift_bp: Option<Spanned<i64>>,
    heavy_multiplier_pct: Option<Spanned<i64>>,
    no_loss_min_fen: Spanned<i64>,
    no_loss_max_fen: Spanned<i64>,
    approval_threshold_fen: Option<Spanned<i64>>,
    claim_days: Option<Spanned<u32>>,
    notice_working_days: Option<Spanned<u32>>,
    collective_threshold_fen: Option<Spanned<i64>>,
    quick_approve_working_days: Option<Spanned<u32>>,
    quick_pay_working_days: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum RawScheme {
    Marginal(Spanned<Vec<RawBracket>>),
    Grade(RawGrades),
    Bands(Spanned<Vec<RawBand>>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBracket {
    up_to_fen: Option<Spanned<i64>>,
    rate_bp: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrades {
    #[serde(rename = "A")]
    a: Spanned<i64>,
    #[serde(rename = "B")]
    b: Spanned<i64>,
    #[serde(rename = "C")]
    c: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBand {
    from_fen: Spanned<i64>,
    to_fen: Option<Spanned<i64>>,
    reward_fen: Spanned<i64>,
}

/// 1-based line of a byte offset in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(&self, span: Range<usize>, message: impl fmt::Display) -> PolicyError {
        PolicyError::Invalid {
            file: self.file.to_owned(),
            line: line_of(self.text, span.start),
            message: message.to_string(),
        }
    }

    fn non_negative(&self, name: &str, v: &Spanned<i64>) -> Result<i64, PolicyError> {
        let value = *v.get_ref();
        if value < 0 {
            return Err(self.err(
                v.span(),
                format_args!("{name} must not be negative (got {value})"),
            ));
        }
        Ok(value)
    }

    fn rate(&self, name: &str, v: &Spanned<i64>) -> Result<i64, PolicyError> {
        let value = *v.get_ref();
        if !(0..=BP_ONE).contains(&value) {
            return Err(self.err(
                v.span(),
                format_args!("{name} = {value} is outside 0..=10000 basis points"),
            ));
        }
        Ok(value)
    }

    fn date(
        &self,
        name: &str,
        v: &Spanned<toml::value::Datetime>,
    ) -> Result<NaiveDate, PolicyError> {
        let dt = v.get_ref();
        match (dt.date, dt.time, dt.offset) {
            (Some(d), None, None) => {
                NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                    .ok_or_else(|| self.err(v.span(), format_args!("{name} is not a valid date")))
            }
            _ => Err(self.err(
                v.span(),
                format_args!("{name} must be a plain date like 2023-02-01 (got {dt})"),
            )),
        }
    }
}

impl Policy {
    /// Parses and validates one policy file. `file` names it in errors.
    ///
    /// Format (amounts in fen, rates in basis points):
    /// ```toml
    /// id = "default"            # with version, unique in a PolicySet
    /// version = 1
    /// region = "000000"         # 6 digits; trailing 00 pairs are wildcards
    /// effective_from = 2018-01-01
    /// # effective_to = 2030-12-31   (optional, inclusive)
    /// cap_fen = 10_000_000
    /// floor_fen = 20_000
    /// insider_uplift_bp = 100   # optional, default 0
    /// heavy_multiplier_pct = 150  # optional, default 100 (none)
    /// no_loss_min_fen = 20_000
    /// no_loss_max_fen = 100_000
    /// # approval_threshold_fen = 1_000_000  (optional)
    /// claim_days = 60           # optional, default 60
    /// notice_working_days = 5   # optional, default 5
    /// # collective_threshold_fen = 5_000_000  (optional: rewards above it need a collective
    /// #                                         decision and legal review)
    /// quick_approve_working_days = 3   # optional, default 3 (quick rewards)
    /// quick_pay_working_days = 5       # optional, default 5 (quick rewards)
    ///
    /// [[scheme.marginal]]       # or [scheme.grade] A = 600 B = 400 C = 200
    /// up_to_fen = 5_000_000     # or [[scheme.bands]] from_fen, to_fen, reward_fen
    /// rate_bp = 500
    /// [[scheme.marginal]]
    /// rate_bp = 300             # open bracket, last
    /// ```
    /// Rejected, with the file and line: syntax errors, unknown keys, a missing field or
    /// scheme, negative amounts, a rate outside 0..=10000 bp (the rate plus the insider uplift
    /// included), brackets or bands out of order, overlapping or with a gap, an open one that
    /// is not last, band rewards that decrease, a cap below the floor, a no-loss range that
    /// is inverted or outside floor..=cap, a bad region code or date.
    pub fn from_toml_str(file: &str, text: &str) -> Result<Policy, PolicyError> {
        let ctx = Ctx { file, text };
        let raw: RawPolicy = toml::from_str(text).map_err(|e| PolicyError::Invalid {
            file: file.to_owned(),
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            message: if e.message().contains("wanted exactly 1 element") {
                "scheme must have exactly one of marginal, grade or bands".to_owned()
            } else {
                e.message().trim().to_owned()
            },
        })?;

        let id = raw.id.get_ref().trim().to_owned();
        if id.is_empty() {
            return Err(ctx.err(raw.id.span(), "id must not be empty"));
        }
        let region = raw.region.get_ref().clone();
        if !is_region_code(&region) {
            return Err(ctx.err(
                raw.region.span(),
                format_args!("region {region:?} is not a 6-digit administrative code"),
            ));
        }
        let effective_from = ctx.date("effective_from", &raw.effective_from)?;
        let effective_to = match &raw.effective_to {
            Some(v) => {
                let to = ctx.date("effective_to", v)?;
                if to < effective_from {
                    return Err(ctx.err(v.span(), "effective_to is before effective_from"));
                }
                Some(to)
            }
            None => None,
        };

        let cap_fen = ctx.non_negative("cap_fen", &raw.cap_fen)?;
        let floor_fen = ctx.non_negative("floor_fen", &raw.floor_fen)?;
        if cap_fen < floor_fen {
            return Err(ctx.err(
                raw.cap_fen.span(),
                format_args!("cap_fen {cap_fen} is below floor_fen {floor_fen}"),
            ));
        }

        let insider_uplift_bp = match &raw.insider_uplift_bp {
            Some(v) => ctx.rate("insider_uplift_bp", v)?,
            None => 0,
        };
        let heavy_multiplier_pct = match &raw.heavy_multiplier_pct {
            Some(v) => {
                let pct = *v.get_ref();
                if !(100..=1000).contains(&pct) {
                    return Err(ctx.err(
                        v.span(),
                        format_args!("heavy_multiplier_pct = {pct} is outside 100..=1000"),
                    ));
                }
                pct
            }
            None => 100,
        };

        let no_loss_min_fen = ctx.non_negative("no_loss_min_fen", &raw.no_loss_min_fen)?;
        let no_loss_max_fen = ctx.non_negative("no_loss_max_fen", &raw.no_loss_max_fen)?;
        if no_loss_min_fen > no_loss_max_fen {
            return Err(ctx.err(
                raw.no_loss_max_fen.span(),
                format_args!(
                    "no_loss_max_fen {no_loss_max_fen} is below no_loss_min_fen {no_loss_min_fen}"
                ),
            ));
        }
        if no_loss_min_fen < floor_fen {
            return Err(ctx.err(
                raw.no_loss_min_fen.span(),
                format_args!("no_loss_min_fen {no_loss_min_fen} is below floor_fen {floor_fen}"),
            ));
        }
        if no_loss_max_fen > cap_fen {
            return Err(ctx.err(
                raw.no_loss_max_fen.span(),
                format_args!("no_loss_max_fen {no_loss_max_fen} is above cap_fen {cap_fen}"),
            ));
        }
        let approval_threshold_fen = match &raw.approval_threshold_fen {
            Some(v) => Some(ctx.non_negative("approval_threshold_fen", v)?),
            None => None,
        };

        let collective_threshold_fen = match &raw.collective_threshold_fen {
            Some(v) => Some(ctx.non_negative("collective_threshold_fen", v)?),
            None => None,
        };

        let scheme = match &raw.scheme {
            RawScheme::Marginal(brackets) => Scheme::Marginal(validate_brackets(
                &ctx,
                brackets.span(),
                brackets.get_ref(),
                insider_uplift_bp,
            )?),
            RawScheme::Grade(g) => {
                let rate = |name: &str, v: &Spanned<i64>| -> Result<i64, PolicyError> {
                    let r = ctx.rate(name, v)?;
                    if r + insider_uplift_bp > BP_ONE {
                        return Err(ctx.err(
                            v.span(),
                            format_args!(
                                "{name} plus insider_uplift_bp exceeds 10000 basis points"
                            ),
                        ));
                    }
                    Ok(r)
                };
                Scheme::Grade(GradeRates {
                    a_bp: rate("grade A", &g.a)?,
                    b_bp: rate("grade B", &g.b)?,
                    c_bp: rate("grade C", &g.c)?,
                })
            }
            RawScheme::Bands(bands) => {
                Scheme::Bands(validate_bands(&ctx, bands.span(), bands.get_ref())?)
            }
        };

        Ok(Policy {
            id,
            version: *raw.version.get_ref(),
            region,
            effective_from,
            effective_to,
            cap_fen,
            floor_fen,
            scheme,
            insider_uplift_bp,
            heavy_multiplier_pct,
            no_loss_min_fen,
            no_loss_max_fen,
            approval_threshold_fen,
            claim_days: raw.claim_days.map_or(60, |v| *v.get_ref()),
            notice_working_days: raw.notice_working_days.map_or(5, |v| *v.get_ref()),
            collective_threshold_fen,
            quick_approve_working_days: raw.quick_approve_working_days.map_or(3, |v| *v.get_ref()),
            quick_pay_working_days: raw.quick_pay_working_days.map_or(5, |v| *v.get_ref()),
            source: file.to_owned(),
        })
    }
}

fn validate_brackets(
    ctx: &Ctx<'_>,
    scheme_span: Range<usize>,
    raw: &[RawBracket],
    uplift_bp: i64,
) -> Result<Vec<Bracket>, PolicyError> {
    if raw.is_empty() {
        return Err(ctx.err(scheme_span, "scheme.marginal needs at least one bracket"));
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut lower = 0i64;
    for (i, b) in raw.iter().enumerate() {
        let n = i + 1;
        let rate_bp = ctx.rate(&format!("bracket {n} rate_bp"), &b.rate_bp)?;
        if rate_bp + uplift_bp > BP_ONE {
            return Err(ctx.err(
                b.rate_bp.span(),
                format_args!(
                    "bracket {n} rate_bp plus insider_uplift_bp exceeds 10000 basis points"
                ),
            ));
        }
        let up_to_fen = match &b.up_to_fen {
            Some(v) => {
                let up = ctx.non_negative(&format!("bracket {n} up_to_fen"), v)?;
                if up <= lower {
                    return Err(ctx.err(
                        v.span(),
                        format_args!(
                            "bracket {n} up_to_fen {up} must be above the previous bracket's {lower}: brackets overlap or are out of order"
                        ),
                    ));
                }
                lower = up;
                Some(up)
            }
            None if n != raw.len() => {
                return Err(ctx.err(
                    b.rate_bp.span(),
                    format_args!("bracket {n} is open (no up_to_fen) but is not the last"),
                ));
            }
            None => None,
        };
        out.push(Bracket { up_to_fen, rate_bp });
    }
    Ok(out)
}

fn validate_bands(
    ctx: &Ctx<'_>,
    scheme_span: Range<usize>,
    raw: &[RawBand],
) -> Result<Vec<Band>, PolicyError> {
    if raw.is_empty() {
        return Err(ctx.err(scheme_span, "scheme.bands needs at least one band"));
    }
    let mut out: Vec<Band> = Vec::with_capacity(raw.len());
    let mut expected_from = 0i64;
    let mut last_reward = 0i64;
    for (i, b) in raw.iter().enumerate() {
        let n = i + 1;
        let from_fen = ctx.non_negative(&format!("band {n} from_fen"), &b.from_fen)?;
        match from_fen.cmp(&expected_from) {
            Ordering::Less => {
                return Err(ctx.err(
                    b.from_fen.span(),
                    format_args!("band {n} from_fen {from_fen} overlaps or is out of order (expected {expected_from})"),
                ))
            }
            Ordering::Greater => {
                return Err(ctx.err(
                    b.from_fen.span(),
                    format_args!("band {n} from_fen {from_fen} leaves a gap (expected {expected_from})"),
                ))
            }
            Ordering::Equal => {}
        }
        let reward_fen = ctx.non_negative(&format!("band {n} reward_fen"), &b.reward_fen)?;
        if reward_fen < last_reward {
            return Err(ctx.err(
                b.reward_fen.span(),
                format_args!(
                    "band {n} reward_fen {reward_fen} is below the previous band's {last_reward}"
                ),
            ));
        }
        last_reward = reward_fen;
        let to_fen = match &b.to_fen {
            Some(v) => {
                let to = ctx.non_negative(&format!("band {n} to_fen"), v)?;
                if to <= from_fen {
                    return Err(ctx.err(
                        v.span(),
                        format_args!("band {n} to_fen {to} must be above its from_fen {from_fen}"),
                    ));
                }
                if n == raw.len() {
                    return Err(ctx.err(
                        v.span(),
                        format_args!("the last band must be open (no to_fen)"),
                    ));
                }
                expected_from = to;
                Some(to)
            }
            None if n != raw.len() => {
                return Err(ctx.err(
                    b.from_fen.span(),
                    format_args!("band {n} is open (no to_fen) but is not the last"),
                ));
            }
            None => None,
        };
        out.push(Band {
            from_fen,
            to_fen,
            reward_fen,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Policy sets
// ---------------------------------------------------------------------------------------------

const BUILT_IN: [(&str, &str); 3] = [
    (
        "config/rewards/default.toml",
        include_str!("../../config/rewards/default.toml"),
    ),
    (
        "config/rewards/fujian-2024.toml",
        include_str!("../../config/rewards/fujian-2024.toml"),
    ),
    (
        "config/rewards/sichuan-2023.toml",
        include_str!("../../config/rewards/sichuan-2023.toml"),
    ),
];

/// All loaded policies; `(id, version)` is unique.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PolicySet {
    policies: Vec<Policy>,
}

impl PolicySet {
    /// The three policies shipped in `config/rewards/`, compiled into the binary.
    pub fn built_in() -> Result<PolicySet, PolicyError> {
        PolicySet::from_sources(BUILT_IN.iter().copied())
    }

    /// Loads every `*.toml` file in `dir` (not recursive), in file-name order.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<PolicySet, PolicyError> {
        let dir = dir.as_ref();
        let io_err = |file: &Path, source| PolicyError::Io {
            file: file.display().to_string(),
            source,
        };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| io_err(dir, e))? {
            let path = entry.map_err(|e| io_err(dir, e))?.path();
            if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        let mut files = Vec::with_capacity(paths.len());
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
            files.push((path.display().to_string(), text));
        }
        PolicySet::from_sources(files.iter().map(|(f, t)| (f.as_str(), t.as_str())))
    }

    /// Builds a set from `(file name, TOML text)` pairs; rejects a repeated `(id, version)`.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<PolicySet, PolicyError> {
        let mut policies: Vec<Policy> = Vec::new();
        for (file, text) in sources {
            let p = Policy::from_toml_str(file, text)?;
            if let Some(other) = policies
                .iter()
                .find(|o| o.id == p.id && o.version == p.version)
            {
                return Err(PolicyError::Duplicate {
                    file: file.to_owned(),
                    other: other.source.clone(),
                    id: p.id,
                    version: p.version,
                });
            }
            policies.push(p);
        }
        Ok(PolicySet { policies })
    }

    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    pub fn get(&self, id: &str, version: u32) -> Option<&Policy> {
        self.policies
            .iter()
            .find(|p| p.id == id && p.version == version)
    }

    /// The policy for a tip from `region_code` received on `receipt_date`: among the policies
    /// in force that day whose region covers the code, the most specific region (longest
    /// prefix) wins; ties go to the highest version, then the latest `effective_from`, then
    /// the smallest id. `None` if the code is not 6 digits or nothing covers it.
    pub fn select(&self, region_code: &str, receipt_date: NaiveDate) -> Option<&Policy> {
        self.policies
            .iter()
            .filter(|p| p.covers(region_code) && p.in_force_on(receipt_date))
            .max_by(|a, b| {
                a.region_prefix()
                    .len()
                    .cmp(&b.region_prefix().len())
                    .then(a.version.cmp(&b.version))
                    .then(a.effective_from.cmp(&b.effective_from))
                    .then_with(|| b.id.cmp(&a.id))
            })
    }
}

// ---------------------------------------------------------------------------------------------
// Computation
// ---------------------------------------------------------------------------------------------

/// What the decision established about the tip.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Input {
    /// Verified case value (查实金额) in fen; 0 means the facts were true but caused no loss.
    pub verified_fen: i64,
    /// The reporter is an insider of the reported party (the policy's uplift applies).
    pub insider: bool,
    /// Evidence grade; required by grade schemes, ignored by the others.
    pub grade: Option<Grade>,
    /// A supervisor marked the case for a heavy reward (重奖).
    pub heavy: bool,
    /// For `verified_fen == 0` only: the amount the decision set inside the no-loss range.
    pub no_loss_amount_fen: Option<i64>,
}

/// One line of the explanation: `amount_fen = round_half_up(base_fen × rate_bp / 10000)`,
/// except `fixed_band` lines, whose amount is the band's fixed reward (`rate_bp` = 0), and the
/// `no_loss` line, whose amount the decision set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    /// `marginal_bracket`, `grade_rate`, `fixed_band`, `band_insider_uplift` or `no_loss`.
    pub key: &'static str,
    pub from_fen: i64,
    /// Exclusive upper bound of the bracket or band; `None` = open.
    pub to_fen: Option<i64>,
    pub base_fen: i64,
    /// The rate actually used, the insider uplift included.
    pub rate_bp: i64,
    pub amount_fen: i64,
}

/// The reward and how it was reached, serializable for finance and auditors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Computation {
    pub amount_fen: i64,
    pub policy_id: String,
    pub policy_version: u32,
    pub verified_fen: i64,
    pub grade: Option<Grade>,
    pub lines: Vec<Line>,
    /// Sum of the lines' amounts.
    pub subtotal_fen: i64,
    pub insider_uplift_applied: bool,
    pub insider_uplift_bp: i64,
    pub heavy_multiplier_applied: bool,
    pub heavy_multiplier_pct: i64,
    /// The subtotal after the heavy multiplier (equal to the subtotal when not heavy).
    pub multiplied_fen: i64,
    pub floor_fen: i64,
    pub cap_fen: i64,
    pub floor_applied: bool,
    pub cap_applied: bool,
    pub rounding: &'static str,
}

/// `n × num / den` rounded half up, for `n, num ≥ 0`, `den > 0`, saturating at `i64::MAX`.
fn mul_div_half_up(n: i64, num: i64, den: i64) -> i64 {
    let n = i128::from(n.max(0));
    let num = i128::from(num.max(0));
    let den = i128::from(den.max(1));
    let q = (n * num + den / 2) / den;
    i64::try_from(q).unwrap_or(i64::MAX)
}

/// Computes the reward for `input` under `policy`.
///
/// Rules (DOMAIN §5, Rewards):
/// - `verified_fen > 0`: the scheme gives the lines — marginal: each bracket's rate (plus the
///   insider uplift, if an insider) on the part of the amount inside the bracket; grade: the
///   grade's rate (plus the uplift) on the whole amount; bands: the band's fixed reward, and
///   for an insider an extra line of `insider_uplift_bp` of it. The lines sum to the subtotal;
///   a heavy case multiplies it by `heavy_multiplier_pct`; then the floor, then the cap, so a
///   heavy reward still stays under the cap.
/// - `verified_fen == 0` means the facts were true but caused no loss: the decision must give
///   `no_loss_amount_fen` inside the policy's no-loss range, and that is the reward (no
///   uplift or multiplier; the range is already inside floor..=cap).
/// - Negative amounts, a missing grade for a grade scheme, a missing or out-of-range no-loss
///   amount, or a no-loss amount together with a loss are errors.
///
/// Rounding: see [`ROUNDING_RULE`]; every step is non-decreasing in `verified_fen`.
pub fn compute(policy: &Policy, input: &Input) -> Result<Computation, ComputeError> {
    let v = input.verified_fen;
    if v < 0 {
        return Err(ComputeError::NegativeVerified(v));
    }
    if let Some(nl) = input.no_loss_amount_fen {
        if nl < 0 {
            return Err(ComputeError::NegativeNoLossAmount(nl));
        }
        if v > 0 {
            return Err(ComputeError::NoLossAmountWithLoss(v));
        }
    }
    let mut c = Computation {
        amount_fen: 0,
        policy_id: policy.id.clone(),
        policy_version: policy.version,
        verified_fen: v,
        grade: input.grade,
        lines: Vec::new(),
        subtotal_fen: 0,
        insider_uplift_applied: false,
        insider_uplift_bp: 0,
        heavy_multiplier_applied: false,
        heavy_multiplier_pct: 100,
        multiplied_fen: 0,
        floor_fen: policy.floor_fen,
        cap_fen: policy.cap_fen,
        floor_applied: false,
        cap_applied: false,
        rounding: ROUNDING_RULE,
    };

    if v == 0 {
        let amount = input
            .no_loss_amount_fen
            .ok_or(ComputeError::NoLossAmountRequired)?;
        if amount < policy.no_loss_min_fen || amount > policy.no_loss_max_fen {
            return Err(ComputeError::NoLossAmountOutOfRange {
                amount,
                min: policy.no_loss_min_fen,
                max: policy.no_loss_max_fen,
            });
        }
        c.lines.push(Line {
            key: "no_loss",
            from_fen: policy.no_loss_min_fen,
            to_fen: Some(policy.no_loss_max_fen),
            base_fen: 0,
            rate_bp: 0,
            amount_fen: amount,
        });
        c.subtotal_fen = amount;
        c.multiplied_fen = amount;
        c.amount_fen = amount;
        return Ok(c);
    }

    let uplift = if input.insider {
        c.insider_uplift_applied = true;
        c.insider_uplift_bp = policy.insider_uplift_bp;
        policy.insider_uplift_bp
    } else {
        0
    };

    match &policy.scheme {
        Scheme::Marginal(brackets) => {
            let mut lower = 0i64;
            for b in brackets {
                if v <= lower {
                    break;
                }
                let upper = b.up_to_fen.unwrap_or(i64::MAX);
                let base = v.min(upper).saturating_sub(lower).max(0);
                let rate = b.rate_bp.saturating_add(uplift);
                c.lines.push(Line {
                    key: "marginal_bracket",
                    from_fen: lower,
                    to_fen: b.up_to_fen,
                    base_fen: base,
                    rate_bp: rate,
                    amount_fen: mul_div_half_up(base, rate, BP_ONE),
                });
                match b.up_to_fen {
                    Some(up) if up > lower => lower = up,
                    Some(_) => {}
                    None => break,
                }
            }
        }
        Scheme::Grade(rates) => {
            let grade = input
                .grade
                .ok_or_else(|| ComputeError::GradeRequired(policy.id.clone()))?;
            let rate = rates.rate_bp(grade).saturating_add(uplift);
            c.lines.push(Line {
                key: "grade_rate",
                from_fen: 0,
                to_fen: None,
                base_fen: v,
                rate_bp: rate,
                amount_fen: mul_div_half_up(v, rate, BP_ONE),
            });
        }
        Scheme::Bands(bands) => {
            let band = bands
                .iter()
                .rev()
                .find(|b| v >= b.from_fen && b.to_fen.map_or(true, |to| v < to));
            if let Some(b) = band {
                c.lines.push(Line {
                    key: "fixed_band",
                    from_fen: b.from_fen,
                    to_fen: b.to_fen,
                    base_fen: v,
                    rate_bp: 0,
                    amount_fen: b.reward_fen,
                });
                if input.insider {
                    c.lines.push(Line {
                        key: "band_insider_uplift",
                        from_fen: b.from_fen,
                        to_fen: b.to_fen,
                        base_fen: b.reward_fen,
                        rate_bp: uplift,
                        amount_fen: mul_div_half_up(b.reward_fen, uplift, BP_ONE),
                    });
                }
            }
        }
    }

    c.subtotal_fen = c
        .lines
        .iter()
        .fold(0i64, |acc, l| acc.saturating_add(l.amount_fen));
    c.multiplied_fen = if input.heavy {
        c.heavy_multiplier_applied = true;
        c.heavy_multiplier_pct = policy.heavy_multiplier_pct;
        mul_div_half_up(c.subtotal_fen, policy.heavy_multiplier_pct, 100)
    } else {
        c.subtotal_fen
    };
    let mut amount = c.multiplied_fen;
    if amount < policy.floor_fen {
        amount = policy.floor_fen;
        c.floor_applied = true;
    }
    if amount > policy.cap_fen {
        amount = policy.cap_fen;
        c.cap_applied = true;
    }
    c.amount_fen = amount;
    Ok(c)
}

#[cfg(test)]
mod tests;
