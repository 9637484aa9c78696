use super::*;

fn source() -> HotlineSource {
    HotlineSource {
        source: "12393".into(),
        secret: "new-secret".into(),
        callback_url: None,
        previous_secret: Some("old-secret".into()),
        previous_secret_until: Some("2026-12-01T00:00:00Z".into()),
        allow_recording_hosts: vec!["rec.internal".into(), "10.1.2.3".into()],
    }
}

#[test]
fn signature_window_and_rotation() {
    let s = source();
    let now: DateTime<Utc> = "2026-11-30T00:00:00Z".parse().unwrap();
    let t = now.timestamp().to_string();
    let body = br#"{"a":1}"#;
    let good = sign(b"new-secret", &t, body);
    assert!(verify(&s, now, Some(&t), Some(&good), body));
    assert!(verify(&s, now, Some(&t), Some(&good.to_uppercase()), body));
    assert!(!verify(&s, now, Some(&t), Some(&good), b"{\"a\":2}"));
    assert!(!verify(&s, now, None, Some(&good), body));
    assert!(!verify(&s, now, Some(&t), None, body));
    assert!(!verify(&s, now, Some(&t), Some("zz"), body));
    assert!(!verify(&s, now, Some(&format!(" {t}")), Some(&good), body));
    for skew in [-301, 301] {
        let t2 = (now.timestamp() + skew).to_string();
        let sig = sign(b"new-secret", &t2, body);
        assert!(!verify(&s, now, Some(&t2), Some(&sig), body), "{skew}");
    }
    let t3 = (now.timestamp() - 299).to_string();
    assert!(verify(
        &s,
        now,
        Some(&t3),
        Some(&sign(b"new-secret", &t3, body)),
        body
    ));
    let old = sign(b"old-secret", &t, body);
    assert!(verify(&s, now, Some(&t), Some(&old), body));
    let later: DateTime<Utc> = "2026-12-01T00:00:01Z".parse().unwrap();
    let tl = later.timestamp().to_string();
    assert!(!verify(
        &s,
        later,
        Some(&tl),
        Some(&sign(b"old-secret", &tl, body)),
        body
    ));
    assert!(verify(
        &s,
        later,
        Some(&tl),
        Some(&sign(b"new-secret", &tl, body)),
        body
    ));
}

/// The worked example of docs/hotline.md (its value was computed with `openssl dgst`).
#[test]
fn documented_example() {
    let body = r#"{"call_id":"12393-20261123-000042","received_at":"2026-11-23T09:30:00+08:00","caller_number":"0635-8888 1234","caller_name":"张三","anonymous":false,"target":{"name":"某某县中医院","kind":"hospital","region_code":"371502"},"categories":["split_or_bed_hospitalization"],"description":"来电反映：该院组织老人挂床住院，用医保卡结算。","agent_id":"A-007","recording_url":null}"#;
    assert_eq!(body.len(), 403);
    assert_eq!(
        sign(b"example-secret-do-not-use", "1795397400", body.as_bytes()),
        "0e0e293ea56af748ba4e4b819a5882d832ab17ca936ec5cb9bee040beb4366f2"
    );
    let callback = r#"{"call_id":"12393-20261123-000042","status":"accepted","text":"您的举报已受理，正在安排核查。","at":"2026-11-24T02:00:00Z"}"#;
    assert_eq!(
        sign(
            b"example-secret-do-not-use",
            "1795485600",
            callback.as_bytes()
        ),
        "f22a175d8097f1954df1973f1f27c0a6fe5fd062481c9836d4106deda0b4a2d7"
    );
    // And the documented body is a valid work order.
    let (wo, _) = parse_json::<WorkOrder>(body.as_bytes(), Locale::ZhCn).unwrap();
    let order = to_order(wo, &source(), Locale::ZhCn, "2026-11-23".parse().unwrap()).unwrap();
    assert_eq!(
        order.tip.recorded_by.as_deref(),
        Some("hotline:12393:A-007")
    );
}

#[test]
fn forbidden_addresses() {
    for a in [
        "0.0.0.0",
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.255",
        "224.0.0.1",
        "255.255.255.255",
        "240.0.0.1",
        "192.0.0.8",
        "198.18.0.1",
        "::",
        "::1",
        "fe80::1",
        "fc00::1",
        "fd12::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::127.0.0.1",
        "64:ff9b::a00:1",
        "2002:7f00:1::",
        "fec0::1",
        "2001:db8::1",
    ] {
        assert!(is_forbidden(a.parse().unwrap()), "{a}");
    }
    for a in [
        "1.1.1.1",
        "8.8.8.8",
        "100.128.0.1",
        "172.32.0.1",
        "2400:3200::1",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
    ] {
        assert!(!is_forbidden(a.parse().unwrap()), "{a}");
    }
}

#[test]
fn recording_urls_at_intake() {
    let s = source();
    assert!(check_recording_url("https://rec.example.com/a.mp3?token=x", &s).is_ok());
    assert!(check_recording_url("http://10.1.2.3:8080/a.mp3", &s).is_ok());
    // Host names are checked when fetched; literal addresses now.
    assert!(check_recording_url("http://localhost/a.mp3", &s).is_ok());
    for bad in [
        "http://127.0.0.1/a.mp3",
        "http://[::1]/a",
        "http://169.254.169.254/latest",
        "ftp://rec.example.com/a.mp3",
        "file:///etc/passwd",
        "https://user:pw@rec.example.com/a",
        "not a url",
    ] {
        assert!(check_recording_url(bad, &s).is_err(), "{bad}");
    }
}

#[test]
fn caller_numbers_and_tokens() {
    assert_eq!(
        caller_number("010-1234 5678").as_deref(),
        Some("01012345678")
    );
    assert_eq!(
        caller_number("+86 138 0013 8000").as_deref(),
        Some("+8613800138000")
    );
    assert!(caller_number("12").is_none());
    assert!(caller_number("call me").is_none());
    assert!(token("").is_none());
    assert!(token("a b").is_none());
    assert_eq!(token(" C-1 ").as_deref(), Some("C-1"));
}

#[test]
fn canonical_digest_ignores_key_order_only() {
    let a: serde_json::Value = serde_json::from_str(r#"{"a":1,"b":[1,{"x":2,"y":3}]}"#).unwrap();
    let b: serde_json::Value = serde_json::from_str(r#"{ "b":[1,{"y":3,"x":2}], "a":1 }"#).unwrap();
    let c: serde_json::Value = serde_json::from_str(r#"{"a":1,"b":[{"x":2,"y":3},1]}"#).unwrap();
    assert_eq!(canonical_digest(&a), canonical_digest(&b));
    assert_ne!(canonical_digest(&a), canonical_digest(&c));
}

/// `notify_by` of a work order: absent = the call centre; SMS only for a named caller whose
/// number is a mainland mobile; email never (no address); unknown values refused.
#[test]
fn the_callers_choice_of_how_to_be_told() {
    let order = |anonymous: bool, number: &str, choice: Option<&str>| {
        let mut v = serde_json::json!({
            "call_id": "c-1", "received_at": "2026-11-23T09:30:00+08:00",
            "caller_number": number, "caller_name": if anonymous { None } else { Some("张三") },
            "anonymous": anonymous,
            "target": { "name": "某某县中医院", "kind": "hospital", "region_code": "371502" },
            "categories": ["fake_patient"], "description": "来电反映：该院组织老人挂床住院。",
            "agent_id": "A-007", "recording_url": null,
        });
        if let Some(c) = choice {
            v["notify_by"] = serde_json::json!(c);
        }
        let (wo, _) = parse_json::<WorkOrder>(v.to_string().as_bytes(), Locale::ZhCn).unwrap();
        to_order(wo, &source(), Locale::ZhCn, "2026-11-23".parse().unwrap())
    };
    let code = |r: AppResult<Order>| r.map(|o| o.tip.notify_by.map(|n| n.code()));
    assert_eq!(code(order(false, "13912345678", None)).unwrap(), None);
    assert_eq!(
        code(order(false, "+86 139-1234-5678", Some("sms"))).unwrap(),
        Some("sms")
    );
    assert_eq!(
        code(order(true, "0635-8765 4321", Some("page"))).unwrap(),
        Some("page")
    );
    assert_eq!(
        code(order(false, "0635-8765 4321", Some(" "))).unwrap(),
        None
    );
    for (anonymous, number, choice, msg) in [
        (true, "13912345678", "sms", "error-hotline-notify-by-sms"),
        (
            false,
            "0635-8765 4321",
            "sms",
            "error-hotline-notify-by-sms",
        ),
        (
            false,
            "13912345678",
            "email",
            "error-hotline-notify-by-email",
        ),
        (false, "13912345678", "SMS ", "error-notify-by"),
    ] {
        let e = order(anonymous, number, Some(choice))
            .err()
            .expect("refused");
        assert_eq!(
            (e.field.as_deref(), e.msg_id),
            (Some("notify_by"), msg),
            "{choice}"
        );
    }
}
