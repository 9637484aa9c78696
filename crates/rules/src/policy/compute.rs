//! The pure computation of a reward from one policy, explained line by line.

#[allow(unused_imports)]
use super::*;

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
pub(super) fn mul_div_half_up(n: i64, num: i64, den: i64) -> i64 {
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
                // Brackets rise strictly (`validate_brackets`); the open one is last.
                match b.up_to_fen {
                    Some(up) => lower = up,
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
                // Bands are contiguous from 0 and the last is open (`validate_bands`):
                // the last band starting at or below `v` is the one that holds it.
                .find(|b| v >= b.from_fen);
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
