//! Who gets the reward: the first valid reporter among merged tips, and the split between
//! co-reporters of one tip.
//!
//! DOMAIN §5 (First reporter): "of tips merged on the same facts, the earliest valid one is
//! rewarded; co-reporters on one tip share it in the proportions the decision records."

/// Why a reward could not be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    #[error("no co-reporters to share the reward between")]
    Empty,
    #[error("co-reporter {index} has weight 0")]
    ZeroWeight { index: usize },
    #[error("co-reporter {index} appears twice")]
    DuplicateKey { index: usize },
    #[error("the total to share must not be negative (got {0} fen)")]
    NegativeTotal(i64),
}

/// Splits `total_fen` between co-reporters in proportion to their recorded weights.
///
/// Largest-remainder method: each reporter first gets `floor(total × weight / Σweights)`
/// fen; the fen left over (fewer than the number of reporters) go one each to the reporters
/// with the largest fractional parts (`total × weight mod Σweights`), ties going to the one
/// listed first. So the shares add up to exactly `total_fen`, and each share is within 1 fen
/// of its exact proportion. The result keeps the order given.
///
/// Errors: an empty list, a weight of 0, a key listed twice, a negative total.
pub fn split<K: Clone + PartialEq>(
    total_fen: i64,
    weights: &[(K, u32)],
) -> Result<Vec<(K, i64)>, ShareError> {
    if total_fen < 0 {
        return Err(ShareError::NegativeTotal(total_fen));
    }
    if weights.is_empty() {
        return Err(ShareError::Empty);
    }
    for (index, (key, weight)) in weights.iter().enumerate() {
        if *weight == 0 {
            return Err(ShareError::ZeroWeight { index });
        }
        if weights[..index].iter().any(|(k, _)| k == key) {
            return Err(ShareError::DuplicateKey { index });
        }
    }
    let sum: i128 = weights.iter().map(|(_, w)| i128::from(*w)).sum();
    let total = i128::from(total_fen);
    // (quotient, remainder) per reporter; quotient ≤ total, so it fits i64.
    let parts: Vec<(i128, i128)> = weights
        .iter()
        .map(|(_, w)| {
            let exact = total * i128::from(*w);
            (exact / sum, exact % sum)
        })
        .collect();
    let given: i128 = parts.iter().map(|(q, _)| q).sum();
    let left = usize::try_from(total - given).unwrap_or(0);

    // Indices by remainder descending; the stable sort keeps the given order on ties.
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|&a, &b| parts[b].1.cmp(&parts[a].1));
    let mut extra = vec![0i128; parts.len()];
    for &i in order.iter().take(left) {
        extra[i] = 1;
    }

    Ok(weights
        .iter()
        .zip(parts.iter().zip(extra))
        .map(|((key, _), ((q, _), e))| {
            let fen = i64::try_from(q + e).unwrap_or(i64::MAX);
            (key.clone(), fen)
        })
        .collect())
}

/// The remainder rule, stated in the explanation of every shared reward and in
/// docs/rewards.md.
pub const REMAINDER_RULE: &str = "largest remainder: each co-reporter first gets \
floor(total × weight ÷ Σweights) fen; the fen left over (fewer than the number of \
co-reporters) go one each to the largest remainders (total × weight mod Σweights), ties to \
the one recorded first";

/// Most co-reporters one decision may record.
pub const MAX_CO_REPORTERS: usize = 20;

/// Largest weight one co-reporter may be given (so percentages and basis points both fit).
pub const MAX_WEIGHT: u32 = 10_000;

/// One co-reporter's share and how it was reached.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ShareLine<K> {
    /// The co-reporter (in a stored explanation: the tip's case id).
    #[serde(rename = "tip")]
    pub key: K,
    pub weight: u32,
    /// floor(total × weight ÷ Σweights).
    pub floor_fen: i64,
    /// total × weight mod Σweights: the fraction left over, in units of 1/Σweights fen.
    pub remainder: i64,
    /// 1 if this co-reporter got one of the fen left over, else 0.
    pub extra_fen: i64,
    /// floor_fen + extra_fen.
    pub amount_fen: i64,
}

/// A reward split between co-reporters, with everything needed to recompute it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Sharing<K> {
    pub rule: &'static str,
    pub total_fen: i64,
    pub weight_sum: i64,
    pub lines: Vec<ShareLine<K>>,
}

/// [`split`] with its working: the floor, remainder and extra fen of each co-reporter.
/// The amounts are exactly those of [`split`].
pub fn explain<K: Clone + PartialEq>(
    total_fen: i64,
    weights: &[(K, u32)],
) -> Result<Sharing<K>, ShareError> {
    let amounts = split(total_fen, weights)?;
    let sum: i128 = weights.iter().map(|(_, w)| i128::from(*w)).sum();
    let total = i128::from(total_fen);
    let lines = weights
        .iter()
        .zip(amounts)
        .map(|((key, weight), (_, amount_fen))| {
            let exact = total * i128::from(*weight);
            let floor_fen = i64::try_from(exact / sum).unwrap_or(i64::MAX);
            ShareLine {
                key: key.clone(),
                weight: *weight,
                floor_fen,
                remainder: i64::try_from(exact % sum).unwrap_or(i64::MAX),
                extra_fen: amount_fen - floor_fen,
                amount_fen,
            }
        })
        .collect();
    Ok(Sharing {
        rule: REMAINDER_RULE,
        total_fen,
        weight_sum: i64::try_from(sum).unwrap_or(i64::MAX),
        lines,
    })
}

/// Of tips merged on the same facts, the payload of the earliest valid one: the smallest
/// `received_at` among tips marked valid, ties going to the one listed first (list merged
/// tips by id to make that the lowest id). `None` if no tip is valid.
pub fn first_valid<R: Ord, T>(tips: &[(R, bool, T)]) -> Option<&T> {
    tips.iter()
        .filter(|(_, valid, _)| *valid)
        .min_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, _, t)| t)
}

#[cfg(test)]
mod tests;
