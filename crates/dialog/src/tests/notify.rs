//! "How shall we tell you?" (issue 17): the ways people answer, SMS offered only to a
//! reporter who left a mobile number, and the default (this chat) when they do not mind.

use super::*;

/// A named report up to the question (a phone number was given).
fn named_until_notify() -> Chat {
    let mut chat = Chat::new();
    play(
        &mut chat,
        &[
            (
                "举报",
                &["bots-report-intro", "bots-report-ask-description"],
            ),
            (DESCRIPTION, &["bots-report-ask-categories-suggested"]),
            ("对", &["bots-report-ask-target-name-offer"]),
            (
                "某某镇卫生院",
                &["bots-report-kind-inferred", "bots-report-ask-place"],
            ),
            ("跳过", &["bots-report-ask-when"]),
            ("跳过", &["bots-report-ask-amount"]),
            ("跳过", &["bots-report-ask-evidence"]),
            ("跳过", &["bots-report-ask-anonymous"]),
            ("实名", &["bots-report-ask-name"]),
            ("张三", &["bots-report-ask-id-number"]),
            ("跳过", &["bots-report-ask-phone"]),
            ("13800138000", &["bots-report-ask-relation"]),
            ("2", &["bots-report-ask-notify-by"]),
        ],
    );
    chat
}

/// An anonymous report up to the question (no phone number).
fn anonymous_until_notify() -> Chat {
    let mut chat = Chat::new();
    let script = anonymous_script();
    play(&mut chat, &script[..11]);
    assert_eq!(chat.step_id(), Some("notify_by"));
    chat
}

/// The answer, and what the report then carries as `reporter.notify_by`.
fn answer(mut chat: Chat, text: &str) -> (Vec<String>, Option<String>) {
    let out = chat.say(text);
    let ids = heads(&out).iter().map(|s| s.to_string()).collect();
    if chat.step_id() != Some("confirm") {
        return (ids, Some("<not taken>".into()));
    }
    let filed = chat.say("1");
    (ids, expect_draft(&filed).reporter.notify_by.clone())
}

#[test]
fn the_question_lists_sms_only_when_a_phone_was_given() {
    let fake = Fake::new();
    let mut named = named_until_notify();
    let out = named.say("帮助");
    let text = fake.render(&out);
    for line in [
        "有了处理结果，您想怎么知道？",
        "1. 在微信里告诉我（就在这里）",
        "2. 发短信到我留的手机号",
        "3. 不用通知，我自己用查询编号查",
    ] {
        assert!(text.contains(line), "{line} not in:\n{text}");
    }

    let mut anon = anonymous_until_notify();
    let text = fake.render(&anon.say("帮助"));
    assert!(text.contains("1. 在微信里告诉我（就在这里）"), "{text}");
    assert!(text.contains("2. 不用通知，我自己用查询编号查"), "{text}");
    assert!(!text.contains("短信") && !text.contains("3. "), "{text}");
}

#[test]
fn everyday_answers_with_a_phone() {
    let cases: &[(&str, Option<&str>)] = &[
        ("1", Some("channel")),
        ("１", Some("channel")),
        ("2", Some("sms")),
        ("２", Some("sms")),
        ("第二个", Some("sms")),
        ("二", Some("sms")),
        ("3", Some("page")),
        ("短信", Some("sms")),
        ("发短信给我", Some("sms")),
        ("短信吧", Some("sms")),
        ("给我发个短信就行", Some("sms")),
        ("SMS", Some("sms")),
        ("微信就行", Some("channel")),
        ("在微信里告诉我吧", Some("channel")),
        ("就在这里说", Some("channel")),
        ("都行", Some("channel")),
        ("随便", Some("channel")),
        ("不用了", Some("page")),
        ("不用通知", Some("page")),
        ("不用通知我，我自己查", Some("page")),
        ("我自己查", Some("page")),
        // Not minding: the default, the channel they came from (no field in the report).
        ("跳过", None),
        ("不知道", None),
    ];
    for (said, want) in cases {
        let (ids, got) = answer(named_until_notify(), said);
        assert_eq!(got.as_deref(), *want, "{said:?} → {got:?} ({ids:?})");
        assert_eq!(
            ids,
            ["bots-report-summary", "bots-report-ask-confirm"],
            "{said:?}"
        );
    }
}

#[test]
fn without_a_phone_sms_is_neither_offered_nor_understood() {
    for (said, want) in [
        ("1", Some("channel")),
        ("2", Some("page")),
        ("不用了", Some("page")),
        ("微信就行", Some("channel")),
        ("跳过", None),
    ] {
        let (_, got) = answer(anonymous_until_notify(), said);
        assert_eq!(got.as_deref(), want, "{said:?}");
    }
    // "3" and "短信" are not options here: the hint names one that is, and asks again.
    for said in ["3", "短信", "发短信给我"] {
        let mut chat = anonymous_until_notify();
        let out = chat.say(said);
        assert_eq!(
            heads(&out),
            ["bots-report-hint-notify-by", "bots-report-ask-notify-by"],
            "{said:?}"
        );
        assert_eq!(chat.step_id(), Some("notify_by"), "{said:?}");
        let listed = out.replies.iter().filter(|m| m.id == "bots-option").count();
        assert_eq!(listed, 2, "{said:?}");
        let hint = &out.replies[0];
        let example = hint.args.iter().find(|(k, _)| k == "example").unwrap();
        assert!(example.1 == "1" || example.1 == "2", "{hint:?}");
    }
}

#[test]
fn a_draft_with_sms_is_refused_by_no_one_but_carries_the_choice() {
    let (_, got) = answer(named_until_notify(), "2");
    assert_eq!(got.as_deref(), Some("sms"));
    // The JSON the service files has it under reporter.notify_by.
    let mut chat = named_until_notify();
    chat.say("短信");
    let d = expect_draft(&chat.say("1")).clone();
    assert_eq!(d.to_json()["reporter"]["notify_by"], "sms");
    assert_eq!(d.to_json()["reporter"]["phone"], "13800138000");
}

/// A named reporter may choose e-mail (the fourth choice, after "no messages"); only then
/// is the address asked, read back masked, and filed with the choice. An address that is
/// not one is asked again. An anonymous reporter is not offered e-mail.
#[test]
fn e_mail_is_offered_to_a_named_reporter_and_the_address_asked() {
    for said in ["4", "发邮件", "邮件", "email"] {
        let mut chat = named_until_notify();
        let out = chat.say(said);
        assert_eq!(heads(&out), ["bots-report-ask-email"], "{said:?}");
        let out = chat.say("不是邮箱");
        assert_eq!(
            heads(&out),
            ["bots-hint-email", "bots-report-ask-email"],
            "{said:?}"
        );
        let out = chat.say(" li.si@example.cn ");
        assert_eq!(
            heads(&out),
            ["bots-report-summary", "bots-report-ask-confirm"]
        );
        let shown = format!("{out:?}");
        assert!(shown.contains("l****@example.cn"), "{shown}");
        assert!(!shown.contains("li.si@"), "{shown}");
        let filed = chat.say("1");
        let draft = expect_draft(&filed);
        assert_eq!(draft.reporter.notify_by.as_deref(), Some("email"));
        assert_eq!(draft.reporter.email.as_deref(), Some("li.si@example.cn"));
        assert_eq!(draft.to_json()["reporter"]["email"], "li.si@example.cn");
    }
    // Without e-mail chosen, no address is asked and none is filed.
    let (_, got) = answer(named_until_notify(), "2");
    assert_eq!(got.as_deref(), Some("sms"));
    let (ids, got) = answer(anonymous_until_notify(), "发邮件");
    assert_eq!(got.as_deref(), Some("<not taken>"), "{ids:?}");
}
