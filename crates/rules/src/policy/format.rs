//! The TOML format of a policy file and the checks made when it is loaded (errors name the
//! file and line).

#[allow(unused_imports)]
use super::*;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
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
pub(super) enum RawScheme {
    Marginal(Spanned<Vec<RawBracket>>),
    Grade(RawGrades),
    Bands(Spanned<Vec<RawBand>>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBracket {
    up_to_fen: Option<Spanned<i64>>,
    rate_bp: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGrades {
    #[serde(rename = "A")]
    a: Spanned<i64>,
    #[serde(rename = "B")]
    b: Spanned<i64>,
    #[serde(rename = "C")]
    c: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBand {
    from_fen: Spanned<i64>,
    to_fen: Option<Spanned<i64>>,
    reward_fen: Spanned<i64>,
}

/// 1-based line of a byte offset in `text`.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

pub(super) struct Ctx<'a> {
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

pub(super) fn validate_brackets(
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

pub(super) fn validate_bands(
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
