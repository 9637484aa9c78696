use super::*;

fn key() -> SecretKey {
    let bytes: Vec<u8> = (0..KEY_LEN as u8)
        .map(|i| i.wrapping_mul(37) ^ 0x5a)
        .collect();
    SecretKey::from_slice(&bytes).unwrap()
}

fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    (0u32..1 << n)
        .filter(|m| m.count_ones() as usize == k)
        .map(|m| (0..n).filter(|i| m & (1 << i) != 0).collect())
        .collect()
}

#[test]
fn any_threshold_of_the_shares_rebuild_the_key() {
    let lines = split(&key(), 5, 3).unwrap();
    assert_eq!(lines.len(), 5);
    for k in 3..=5 {
        for pick in subsets(5, k) {
            let chosen: Vec<&String> = pick.iter().map(|&i| &lines[i]).collect();
            let got = combine(&chosen).unwrap();
            assert_eq!(got.as_bytes(), key().as_bytes(), "shares {pick:?}");
        }
    }
}

#[test]
fn fewer_than_the_threshold_are_refused() {
    let lines = split(&key(), 5, 3).unwrap();
    for pick in subsets(5, 2) {
        let chosen: Vec<&String> = pick.iter().map(|&i| &lines[i]).collect();
        assert_eq!(
            combine(&chosen).unwrap_err(),
            EscrowError::TooFew { need: 3, got: 2 }
        );
    }
    assert_eq!(
        combine::<&str>(&[]).unwrap_err(),
        EscrowError::TooFew { need: 2, got: 0 }
    );
}

/// Two shares of a 3-of-n split say nothing of the key: each share's bytes, and the line
/// through two shares (what a 2-of-n split would rebuild), equal the key's bytes only as often
/// as chance makes them (1 in 256), over many splits.
#[test]
fn two_shares_of_three_reveal_nothing() {
    let k = key();
    let (mut same_byte, mut same_line, mut total) = (0usize, 0usize, 0usize);
    for _ in 0..300 {
        let lines = split(&k, 3, 3).unwrap();
        let a = parse_line(1, &lines[0]).unwrap();
        let b = parse_line(2, &lines[1]).unwrap();
        let shares = [
            sharks::Share::try_from(a.data.as_slice()).unwrap(),
            sharks::Share::try_from(b.data.as_slice()).unwrap(),
        ];
        let line = sharks::Sharks(2).recover(shares.iter()).unwrap();
        for (i, key_byte) in k.as_bytes().iter().enumerate() {
            total += 1;
            same_byte += usize::from(a.data[i + 1] == *key_byte);
            same_line += usize::from(line[i] == *key_byte);
        }
    }
    // 9,600 bytes: chance gives about 37 matches; a share that leaks gives thousands.
    assert!(
        same_byte < 120,
        "{same_byte} of {total} share bytes equal the key's"
    );
    assert!(
        same_line < 120,
        "{same_line} of {total} rebuilt bytes equal the key's"
    );
}

#[test]
fn the_line_format() {
    let lines = split(&key(), 3, 2).unwrap();
    let check = hex(&key_check(&key()));
    for (i, line) in lines.iter().enumerate() {
        let words: Vec<&str> = line.split(' ').collect();
        assert_eq!(words.len(), 8, "{line}");
        assert_eq!(&words[..2], ["jubao-share", "v1"]);
        assert_eq!(words[2], "k=2");
        assert_eq!(words[3], "n=3");
        assert_eq!(words[4], format!("x={}", i + 1));
        assert_eq!(words[5], format!("key={check}"));
        let data = words[6].strip_prefix("data=").unwrap();
        assert_eq!(data.replace('-', "").len(), 2 * (KEY_LEN + 1));
        assert!(data.split('-').all(|g| g.len() <= 4 && !g.is_empty()));
        assert_eq!(data.split('-').count(), (2 * (KEY_LEN + 1)).div_ceil(4));
        assert!(words[7].starts_with("check=") && words[7].len() == 10);
    }
    // The key's check is not the key: it is the derived digest's first bytes.
    assert_ne!(check, hex(&key().as_bytes()[..4]));
    assert_eq!(check.len(), 8);
}

#[test]
fn upper_case_and_extra_spaces_are_read() {
    let lines = split(&key(), 3, 2).unwrap();
    let shouted: Vec<String> = lines
        .iter()
        .map(|l| {
            let words: Vec<String> = l
                .split(' ')
                .map(|w| match w.split_once('=') {
                    Some((name, value)) => format!("{name}={}", value.to_uppercase()),
                    None => w.to_string(),
                })
                .collect();
            format!("  {}\t", words.join("   "))
        })
        .collect();
    assert_ne!(shouted[0].trim(), lines[0]);
    assert_eq!(
        combine(&[shouted[0].as_str(), "", shouted[2].as_str()])
            .unwrap()
            .as_bytes(),
        key().as_bytes()
    );
}

fn change_char(line: &str, at: usize) -> String {
    let mut b = line.as_bytes().to_vec();
    b[at] = if b[at] == b'0' { b'1' } else { b'0' };
    String::from_utf8(b).unwrap()
}

#[test]
fn a_miscopied_character_is_named_on_its_share() {
    let lines = split(&key(), 3, 2).unwrap();
    let data_at = lines[1].find("data=").unwrap() + 5 + 7;
    let bad = change_char(&lines[1], data_at);
    assert_eq!(
        combine(&[lines[0].clone(), bad]).unwrap_err(),
        EscrowError::Miscopied { line: 2 }
    );
    let check_at = lines[0].len() - 1;
    assert_eq!(
        combine(&[change_char(&lines[0], check_at), lines[1].clone()]).unwrap_err(),
        EscrowError::Miscopied { line: 1 }
    );
}

#[test]
fn shares_of_two_splits_are_not_mixed() {
    let a = split(&key(), 3, 2).unwrap();
    let other = SecretKey::from_slice(&[7u8; KEY_LEN]).unwrap();
    let b = split(&other, 3, 2).unwrap();
    assert_eq!(
        combine(&[a[0].clone(), b[1].clone()]).unwrap_err(),
        EscrowError::Mixed { line: 2 }
    );
    let c = split(&key(), 4, 2).unwrap();
    assert_eq!(
        combine(&[a[0].clone(), c[1].clone()]).unwrap_err(),
        EscrowError::Mixed { line: 2 }
    );
    let d = split(&key(), 3, 3).unwrap();
    assert_eq!(
        combine(&[a[0].clone(), d[1].clone()]).unwrap_err(),
        EscrowError::Mixed { line: 2 }
    );
}

#[test]
fn a_share_given_twice_is_named() {
    let a = split(&key(), 3, 2).unwrap();
    assert_eq!(
        combine(&[a[1].clone(), a[1].clone()]).unwrap_err(),
        EscrowError::Duplicate { line: 2, x: 2 }
    );
}

#[test]
fn a_share_with_a_valid_check_but_wrong_data_fails_the_key_check() {
    let a = split(&key(), 3, 2).unwrap();
    let p = parse_line(2, &a[1]).unwrap();
    let mut data = p.data.to_vec();
    data[5] ^= 0x01;
    let forged = format_line(p.k, p.n, p.x, &p.key, &data);
    assert_eq!(
        combine(&[a[0].clone(), forged]).unwrap_err(),
        EscrowError::WrongKey
    );
}

#[test]
fn malformed_lines_are_named() {
    let a = split(&key(), 3, 2).unwrap();
    let cases = [
        "hello",
        "jubao-share v2 k=2 n=3",
        "jubao-share v1 n=3 k=2",
        "jubao-share v1 k=two n=3",
        "jubao-share v1 k=2 n=3 x=1 key=zz data=00 check=0000",
    ];
    for c in cases {
        assert!(
            matches!(
                combine(&[c, a[0].as_str()]).unwrap_err(),
                EscrowError::Malformed { line: 1, .. }
            ),
            "{c}"
        );
    }
    let extra = format!("{} more", a[0]);
    assert!(matches!(
        combine(&[extra.as_str(), a[1].as_str()]).unwrap_err(),
        EscrowError::Malformed {
            line: 1,
            what: "text after check="
        }
    ));
    // Numbers that do not fit: x differs from the share's own, threshold above the count.
    let p = parse_line(1, &a[0]).unwrap();
    for (k, n, x) in [(2, 3, 9), (4, 3, p.x), (1, 3, p.x)] {
        let line = format_line(k, n, x, &p.key, &p.data);
        assert!(
            matches!(
                combine(&[line.as_str(), a[1].as_str()]).unwrap_err(),
                EscrowError::Malformed {
                    line: 1,
                    what: "its numbers do not fit together"
                }
            ),
            "{k} {n} {x}"
        );
    }
    let short = format_line(2, 3, p.x, &p.key, &p.data[..10]);
    assert!(matches!(
        combine(&[short.as_str(), a[1].as_str()]).unwrap_err(),
        EscrowError::Malformed { line: 1, .. }
    ));
}

#[test]
fn parameters_out_of_range_are_refused() {
    for (n, k) in [(5, 1), (3, 4), (256, 3), (0, 0), (2, 0)] {
        assert_eq!(
            split(&key(), n, k).unwrap_err(),
            EscrowError::Parameters {
                count: n,
                threshold: k
            }
        );
    }
    assert_eq!(split(&key(), 255, 255).unwrap().len(), 255);
    assert_eq!(split(&key(), 2, 2).unwrap().len(), 2);
}

#[test]
fn errors_never_show_share_data() {
    let a = split(&key(), 3, 2).unwrap();
    let p = parse_line(1, &a[0]).unwrap();
    let data_hex = hex(&p.data);
    let errors = [
        combine(&[change_char(&a[0], a[0].len() - 1), a[1].clone()]).unwrap_err(),
        combine(&[a[0].clone()]).unwrap_err(),
    ];
    for e in errors {
        let text = format!("{e} {e:?}");
        assert!(!text.contains(&data_hex[2..12]), "{text}");
    }
}

#[test]
fn a_key_check_or_data_of_the_wrong_shape_is_malformed() {
    let a = split(&key(), 3, 2).unwrap();
    let p = parse_line(1, &a[0]).unwrap();
    // Six hex digits: hex, but not the 8 of a key check.
    let short_key = format_line(p.k, p.n, p.x, "abcdef", &p.data);
    assert_eq!(
        combine(&[short_key.as_str(), a[1].as_str()]).unwrap_err(),
        EscrowError::Malformed {
            line: 1,
            what: "key= is not 8 hex digits"
        }
    );
    // An odd number of hex digits, and letters outside ASCII, are not hex (and never panic).
    for data in ["abc", "ab\u{00e9}"] {
        let line = format!(
            "jubao-share v1 k=2 n=3 x=1 key={} data={data} check=0000",
            p.key
        );
        assert_eq!(
            combine(&[line.as_str(), a[1].as_str()]).unwrap_err(),
            EscrowError::Malformed {
                line: 1,
                what: "data= is not hex"
            }
        );
    }
}
