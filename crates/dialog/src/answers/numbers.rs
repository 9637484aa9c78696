//! Numbers as people write and say them: ASCII digits (with thousands commas and a decimal
//! point), Chinese numerals (一二三 … 十百千万亿, 两, 〇/零, the financial forms 壹贰叁 …),
//! and the two mixed (`1万5`, `3千2`, `一万五`: the trailing digit counts in the next lower
//! place). Values are exact: integers in hundredths (`centi`), so `1.5万` is `1_500_000`.

/// The value of one Chinese digit character.
pub(crate) fn cn_digit(c: char) -> Option<u32> {
    Some(match c {
        '零' | '〇' => 0,
        '一' | '壹' | '幺' => 1,
        '二' | '两' | '贰' | '俩' => 2,
        '三' | '叁' | '仨' => 3,
        '四' | '肆' => 4,
        '五' | '伍' => 5,
        '六' | '陆' => 6,
        '七' | '柒' => 7,
        '八' | '捌' => 8,
        '九' | '玖' => 9,
        _ => return None,
    })
}

/// The place value of a unit character: 十 10, 百 100, 千 1000 (small units, inside a
/// section), 万 10⁴ and 亿 10⁸ (section units). Typed shorthands `k` and `w` (after a
/// digit) are 千 and 万.
pub(crate) fn cn_unit(c: char) -> Option<u128> {
    Some(match c {
        '十' | '拾' => 10,
        '百' | '佰' => 100,
        '千' | '仟' | 'k' => 1000,
        '万' | '萬' | 'w' => 10_000,
        '亿' => 100_000_000,
        _ => return None,
    })
}

/// A character that can be part of a number.
pub(crate) fn is_number_char(c: char) -> bool {
    c.is_ascii_digit() || cn_digit(c).is_some() || cn_unit(c).is_some() || matches!(c, '.' | ',')
}

/// The value of a whole number string in hundredths, or `None` if it is not one number.
/// `max_decimals` limits the decimals of a plain number without units (2 for money).
///
/// `1200` → 120000, `1,200.5` → 120050, `1.2万` → 1200000, `一万五` → 1500000,
/// `两百五` → 25000, `一百零五` → 10500, `十五` → 1500, `二零二五` → 202500.
pub fn parse_number_centi(s: &str) -> Option<u128> {
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return None;
    }
    // Digits read positionally (二零二五): only Chinese digits, at least two, no units.
    if chars.len() >= 2 && chars.iter().all(|&c| cn_digit(c).is_some()) {
        let mut v: u128 = 0;
        for &c in &chars {
            v = v.checked_mul(10)?.checked_add(u128::from(cn_digit(c)?))?;
        }
        return v.checked_mul(100);
    }
    let mut total: u128 = 0; // completed sections (× 万 / 亿)
    let mut section: u128 = 0; // below 万, in centi
    let mut pending: Option<u128> = None; // the number just read, in centi
    let mut pending_single = false; // it was one digit (for 一万五)
    let mut last_small: u128 = u128::MAX; // last small unit in this section
    let mut last_place: u128 = 0; // place value of the last unit read (for elision)
    let mut zero_seen = false;
    let mut seen_digit = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            if pending.is_some() {
                return None;
            }
            // An ASCII number: digits, commas between digits, one decimal point.
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit() || chars[i] == ',' || chars[i] == '.')
            {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            pending = Some(ascii_centi(&text)?);
            pending_single = text.len() == 1;
            seen_digit = true;
            continue;
        }
        if let Some(d) = cn_digit(c) {
            if pending.is_some() {
                return None;
            }
            if d == 0 {
                zero_seen = true;
            } else {
                pending = Some(u128::from(d) * 100);
                pending_single = true;
            }
            seen_digit = true;
            i += 1;
            continue;
        }
        let unit = cn_unit(c)?;
        if matches!(c, 'k' | 'w') && pending.is_none() {
            return None;
        }
        if unit < 10_000 {
            if unit >= last_small {
                return None;
            }
            // 十 alone or first means 一十.
            let n = match pending.take() {
                Some(n) => n,
                None if unit == 10 && !seen_digit => 100,
                None if unit == 10 && zero_seen => 100,
                None => return None,
            };
            section = section.checked_add(n.checked_mul(unit)?)?;
            last_small = unit;
        } else {
            let n = pending.take().unwrap_or(0);
            let sec = section.checked_add(n)?;
            if sec == 0 && total == 0 {
                return None;
            }
            if unit == 100_000_000 {
                total = total.checked_add(sec)?.checked_mul(unit)?;
            } else {
                total = total.checked_add(sec.checked_mul(unit)?)?;
            }
            section = 0;
            last_small = u128::MAX;
        }
        last_place = unit;
        zero_seen = false;
        pending_single = false;
        i += 1;
    }
    if let Some(n) = pending {
        // 一万五 = 15000, 三千二 = 3200: a lone digit after a unit counts one place lower,
        // unless a 零 stood between (一百零五 = 105).
        let n = if last_place >= 10 && pending_single && !zero_seen && n % 100 == 0 {
            n.checked_mul(last_place / 10)?
        } else {
            n
        };
        section = section.checked_add(n)?;
    }
    if !seen_digit && last_place == 0 {
        return None;
    }
    total.checked_add(section)
}

/// `1,200.5` in hundredths. Commas only between digits; at most two decimals.
fn ascii_centi(t: &str) -> Option<u128> {
    let (int_part, frac) = match t.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (t, None),
    };
    if int_part.is_empty()
        || int_part.starts_with(',')
        || int_part.ends_with(',')
        || int_part.contains(",,")
    {
        return None;
    }
    let mut v: u128 = 0;
    for c in int_part.chars() {
        match c {
            ',' => {}
            d => {
                v = v
                    .checked_mul(10)?
                    .checked_add(u128::from(d.to_digit(10)?))?
            }
        }
    }
    let mut centi = v.checked_mul(100)?;
    if let Some(f) = frac {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let f = f.trim_end_matches('0');
        if f.len() > 2 {
            // Finer than a hundredth (12.3456万) is read by the strict `parse_amount_fen`.
            return None;
        }
        let mut step = 10u128;
        for c in f.bytes() {
            centi += u128::from(c - b'0') * step;
            step /= 10;
        }
    }
    Some(centi)
}

/// A small whole number (an option number, a day, a month, a count): `5`, `五`, `十二`,
/// `两`, `二十`. `None` for fractions, units above 千 or an empty string.
pub fn parse_small_int(s: &str) -> Option<u32> {
    if s.is_empty()
        || s.chars()
            .any(|c| matches!(c, '.' | ',' | '万' | '亿' | 'w' | 'k'))
    {
        return None;
    }
    let c = parse_number_centi(s)?;
    if c % 100 != 0 {
        return None;
    }
    u32::try_from(c / 100).ok()
}
