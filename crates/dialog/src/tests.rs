//! Whole conversations, flow-file checks, parsers, and the message catalogue.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::engine::ENGINE_MESSAGES;
use super::*;

mod notify;
mod walkthrough;

/// 2025-06-15 12:00 in China (04:00 UTC).
const NOW: i64 = 1_749_960_000;

/// The repository, which holds the flows (`bots/`) and their strings (`locales/`).
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

const ID: &str = "11010519491231002X";
const PHONE: &str = "13800138000";

// ---------------------------------------------------------------------------------------
// Stand-in domain checks: the shape of each answer only. The service's real rules (GB 11643
// check character, province prefixes, …) are its own `DomainChecks`, tested in the main
// crate; the engine only needs something that accepts some answers and refuses others.

struct ShapeChecks;

impl Checks for ShapeChecks {
    fn resident_id(&self, s: &str) -> Option<String> {
        let s: String = s
            .split_whitespace()
            .collect::<String>()
            .to_ascii_uppercase();
        let b = s.as_bytes();
        let ok = b.len() == 18
            && b[..17].iter().all(u8::is_ascii_digit)
            && (b[17].is_ascii_digit() || b[17] == b'X');
        ok.then_some(s)
    }

    fn id_last6(&self, s: &str) -> Option<String> {
        let s = s.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        let ok = b.len() == 6
            && b[..5].iter().all(u8::is_ascii_digit)
            && (b[5].is_ascii_digit() || b[5] == b'X');
        ok.then_some(s)
    }

    fn email(&self, s: &str) -> Option<String> {
        let s = s.trim();
        let (local, domain) = s.split_once('@')?;
        (!local.is_empty() && domain.contains('.') && !s.contains(' ')).then(|| s.to_string())
    }

    fn phone(&self, s: &str) -> Option<String> {
        let d: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let d = d
            .strip_prefix("+86")
            .or_else(|| d.strip_prefix("0086"))
            .unwrap_or(&d);
        let b = d.as_bytes();
        let ok = b.len() == 11 && b.iter().all(u8::is_ascii_digit) && b[0] == b'1';
        ok.then(|| d.to_string())
    }

    fn region(&self, s: &str) -> Option<String> {
        let s = s.trim();
        let ok = s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0');
        ok.then(|| s.to_string())
    }
}

/// The shipped flows with [`ShapeChecks`].
fn built_in() -> Engine {
    Engine::built_in(ShapeChecks)
}

// ---------------------------------------------------------------------------------------
// A fake localizer over the real .ftl files.

fn ftl(locale: Locale) -> BTreeMap<String, String> {
    let path = format!("{ROOT}/locales/{}/bots.ftl", locale.tag());
    let text = std::fs::read_to_string(&path).unwrap();
    let mut map = BTreeMap::new();
    let mut current: Option<(String, Vec<String>)> = None;
    for line in text.lines() {
        let starts_message = line.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        if starts_message {
            if let Some((id, parts)) = current.take() {
                map.insert(id, parts.join("\n"));
            }
            let (id, value) = line.split_once(" =").expect("`id =` line");
            let value = value.trim();
            let parts = if value.is_empty() {
                vec![]
            } else {
                vec![value.to_string()]
            };
            current = Some((id.to_string(), parts));
        } else if line.starts_with(' ') && !line.trim().is_empty() {
            if let Some((_, parts)) = current.as_mut() {
                parts.push(line.trim().to_string());
            }
        } else if let Some((id, parts)) = current.take() {
            map.insert(id, parts.join("\n"));
        }
    }
    if let Some((id, parts)) = current.take() {
        map.insert(id, parts.join("\n"));
    }
    map
}

struct Fake {
    zh: BTreeMap<String, String>,
    en: BTreeMap<String, String>,
}

impl Fake {
    fn new() -> Self {
        Fake {
            zh: ftl(Locale::ZhCn),
            en: ftl(Locale::En),
        }
    }

    /// Substitute `{ $x }` and `{ "lit" }`; panic on an unknown id or a missing argument.
    fn localize(&self, loc: Locale, id: &str, args: &[(String, String)]) -> String {
        let map = if loc == Locale::En {
            &self.en
        } else {
            &self.zh
        };
        let mut s = map
            .get(id)
            .unwrap_or_else(|| panic!("message `{id}` missing in {}", loc.tag()))
            .clone();
        for (k, v) in args {
            s = s.replace(&format!("{{ ${k} }}"), v);
        }
        while let Some(start) = s.find("{ \"") {
            let end = s[start..].find("\" }").expect("closed literal") + start;
            let lit = s[start + 3..end].to_string();
            s.replace_range(start..end + 3, &lit);
        }
        assert!(!s.contains('{'), "`{id}` has an unfilled placeholder: {s}");
        s
    }

    fn render(&self, out: &Outcome) -> String {
        out.render(&|id: &str, args: &[(String, String)]| self.localize(out.locale, id, args))
    }
}

// ---------------------------------------------------------------------------------------
// A chat: every step goes through JSON, as if another server instance took the next message.

struct Chat {
    engine: Engine,
    fake: Fake,
    state: Option<Conversation>,
    now: i64,
}

impl Chat {
    fn new() -> Self {
        Chat {
            engine: built_in(),
            fake: Fake::new(),
            state: None,
            now: NOW,
        }
    }

    fn send(&mut self, input: Input) -> Outcome {
        let out = self.engine.step(self.state.take(), input, self.now);
        // Every reply renders in the chosen language with all its arguments.
        let text = self.fake.render(&out);
        assert!(
            !out.replies.is_empty() || out.action.is_some(),
            "silent step"
        );
        if out.locale == Locale::En {
            assert!(
                !text.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
                    || text.contains("中文")
                    || text.contains('万'),
                "Chinese in an English reply: {text}"
            );
        }
        self.state = out.state.as_ref().map(|s| {
            let stored = serde_json::to_string(s).unwrap();
            serde_json::from_str(&stored).unwrap()
        });
        self.now += 20;
        out
    }

    fn say(&mut self, s: &str) -> Outcome {
        self.send(parse_input(s))
    }

    fn step_id(&self) -> Option<&str> {
        self.state.as_ref().map(|s| s.step.as_str())
    }
}

/// `[img:ID]`, `[voice:ID|text]`, `[voice:ID]`, `[loc:X,Y|label]`, `[key:REPORT]`,
/// `[subscribe]`; anything else is text.
fn parse_input(s: &str) -> Input {
    if let Some(id) = s.strip_prefix("[img:").and_then(|r| r.strip_suffix(']')) {
        return Input::Image {
            media_id: id.into(),
        };
    }
    if let Some(r) = s.strip_prefix("[voice:").and_then(|r| r.strip_suffix(']')) {
        let (id, rec) = match r.split_once('|') {
            Some((id, t)) => (id, Some(t.to_string())),
            None => (r, None),
        };
        return Input::Voice {
            media_id: id.into(),
            recognition: rec,
        };
    }
    if let Some(r) = s.strip_prefix("[loc:").and_then(|r| r.strip_suffix(']')) {
        let (xy, label) = r.split_once('|').unwrap();
        let (x, y) = xy.split_once(',').unwrap();
        return Input::Location {
            x: x.parse().unwrap(),
            y: y.parse().unwrap(),
            label: label.into(),
        };
    }
    if s == "[subscribe]" {
        return Input::Command(Cmd::Subscribe);
    }
    if let Some(k) = s.strip_prefix("[key:").and_then(|r| r.strip_suffix(']')) {
        return Input::Command(built_in().command_for_key(k).unwrap());
    }
    Input::Text(s.into())
}

/// The ids of the paragraph messages (list lines left out).
fn heads(out: &Outcome) -> Vec<&str> {
    out.replies
        .iter()
        .filter(|m| !m.line)
        .map(|m| m.id.as_str())
        .collect()
}

/// Play a script of (input, expected paragraph ids); return the last outcome.
fn play(chat: &mut Chat, script: &[(&str, &[&str])]) -> Outcome {
    let mut last = None;
    for (i, (input, want)) in script.iter().enumerate() {
        let out = chat.say(input);
        assert_eq!(
            heads(&out),
            want.to_vec(),
            "line {i}: input {input:?} at {:?}",
            chat.step_id()
        );
        last = Some(out);
    }
    last.expect("non-empty script")
}

const DESCRIPTION: &str = "镇卫生院组织老人免费体检后办理住院，人没住院，医保照样结算。";

/// The anonymous happy path: 13 messages from "举报" to the action.
fn anonymous_script() -> Vec<(&'static str, &'static [&'static str])> {
    vec![
        (
            "举报",
            &["bots-report-intro", "bots-report-ask-description"],
        ),
        // The description suggests categories; numbers still choose others.
        (DESCRIPTION, &["bots-report-ask-categories-suggested"]),
        // It names "镇卫生院": offered; the full name is written instead.
        ("1 6", &["bots-report-ask-target-name-offer"]),
        // The kind follows from the name (卫生院 → clinic): no question.
        (
            "某某镇卫生院",
            &["bots-report-kind-inferred", "bots-report-ask-place"],
        ),
        ("聊城市东昌府区某某镇", &["bots-report-ask-when"]),
        ("2025年3月", &["bots-report-ask-amount"]),
        ("1.2万", &["bots-report-ask-evidence"]),
        ("[img:photo-1]", &["bots-media-received"]),
        ("完成", &["bots-report-ask-anonymous"]),
        ("1", &["bots-report-ask-claim-verifier"]),
        // Full-width digits and a small x, as a phone keyboard gives them.
        ("１２３４５x", &["bots-report-ask-notify-by"]),
        // No phone was given: SMS is not offered, so "2" is the status page.
        ("２", &["bots-report-summary", "bots-report-ask-confirm"]),
        ("1", &[]),
    ]
}

fn expect_draft(out: &Outcome) -> &ReportDraft {
    match &out.action {
        Some(Action::FileReport(d)) => d,
        other => panic!("expected FileReport, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Conversations.

#[test]
fn happy_path_anonymous() {
    let mut chat = Chat::new();
    let script = anonymous_script();
    assert_eq!(script.len(), 13);
    let out = play(&mut chat, &script);
    assert!(out.state.is_none());
    let d = expect_draft(&out);
    assert_eq!(
        d.to_json(),
        json!({
            "target": { "name": "某某镇卫生院", "kind": "clinic", "address": "聊城市东昌府区某某镇" },
            "categories": ["fake_patient", "split_or_bed_hospitalization"],
            "description": DESCRIPTION,
            "occurred_from": "2025-03-01",
            "occurred_to": "2025-03-31",
            "amount_estimate_fen": 1_200_000,
            "reporter": { "anonymous": true, "claim_verifier": "12345X", "notify_by": "page" },
            "locale": "zh-CN"
        })
    );
    assert_eq!(
        d.media,
        vec![MediaRef {
            kind: MediaKind::Image,
            media_id: "photo-1".into(),
            recognition: None
        }]
    );
}

#[test]
fn summary_shows_answers_with_labels() {
    let mut chat = Chat::new();
    let script = anonymous_script();
    play(&mut chat, &script[..script.len() - 1]);
    // Ask for the summary again through "help" and render it.
    let out = chat.say("帮助");
    let text = chat.fake.render(&out);
    for want in [
        "问题类型：假病人，虚假就医；分解住院、挂床住院",
        "对象类型：诊所、卫生室",
        "时间：2025年3月",
        "涉及金额：约 12,000 元",
        "证据材料：1 份",
        "举报方式：匿名举报",
        "怎么告诉您结果：不用通知，我自己用查询编号查",
    ] {
        assert!(text.contains(want), "{want} not in:\n{text}");
    }
    assert!(!text.contains("姓名："));
}

#[test]
fn happy_path_named_with_voice_and_location() {
    let mut chat = Chat::new();
    let out = play(
        &mut chat,
        &[
            (
                "我要举报！",
                &["bots-report-intro", "bots-report-ask-description"],
            ),
            // A spoken answer counts as typed text; the recording is kept as evidence.
            (
                "[voice:v-1|某药店让我用医保卡刷了洗发水和米面油，说是可以报销。]",
                &["bots-report-ask-categories-suggested"],
            ),
            ("10，7", &["bots-report-ask-target-name"]),
            // 大药房: a pharmacy, without asking.
            (
                "  幸福大药房  ",
                &["bots-report-kind-inferred", "bots-report-ask-place"],
            ),
            (
                "[loc:36.45,115.98|山东省聊城市东昌府区]",
                &["bots-report-ask-when"],
            ),
            ("昨天", &["bots-report-ask-amount"]),
            ("¥1,200.50", &["bots-report-ask-evidence"]),
            ("[img:p1]", &["bots-media-received"]),
            ("[voice:v-2|这是收银小票]", &["bots-media-received"]),
            ("好了", &["bots-report-ask-anonymous"]),
            ("实名", &["bots-report-ask-name"]),
            ("张三", &["bots-report-ask-id-number"]),
            ("11010519491231002x", &["bots-report-ask-phone"]),
            ("138 0013 8000", &["bots-report-ask-relation"]),
            ("2", &["bots-report-ask-notify-by"]),
            (
                "发短信给我",
                &["bots-report-summary", "bots-report-ask-confirm"],
            ),
        ],
    );
    let text = chat.fake.render(&out);
    assert!(text.contains("身份证号：110***********002X"), "{text}");
    assert!(text.contains("手机号：138****8000"), "{text}");
    assert!(
        text.contains("怎么告诉您结果：发短信到我留的手机号"),
        "{text}"
    );
    assert!(!text.contains(ID) && !text.contains(PHONE));
    assert!(text.contains("地点：山东省聊城市东昌府区"));
    // The spoken description counts as evidence too.
    assert!(text.contains("证据材料：3 份"));
    assert!(
        text.contains("问题类型：过度检查、过度治疗、多开药；倒卖药品、医保卡换钱换物"),
        "{text}"
    );

    let out = chat.say("确认");
    let d = expect_draft(&out);
    assert_eq!(
        d.to_json(),
        json!({
            "target": { "name": "幸福大药房", "kind": "pharmacy", "address": "山东省聊城市东昌府区" },
            "categories": ["excessive_treatment", "drug_resale"],
            "description": "某药店让我用医保卡刷了洗发水和米面油，说是可以报销。",
            "occurred_from": "2025-06-14",
            "occurred_to": "2025-06-14",
            "amount_estimate_fen": 120_050,
            "reporter": { "anonymous": false, "name": "张三", "id_number": ID,
                          "phone": PHONE, "relation": "patient", "notify_by": "sms" },
            "locale": "zh-CN"
        })
    );
    assert_eq!(d.coordinates, Some((36.45, 115.98)));
    let ids: Vec<_> = d.media.iter().map(|m| m.media_id.as_str()).collect();
    assert_eq!(ids, ["v-1", "p1", "v-2"]);
    assert_eq!(d.media[2].recognition.as_deref(), Some("这是收银小票"));
    // Identity never shows in debug output.
    let dbg = format!("{d:?}");
    assert!(!dbg.contains(ID) && !dbg.contains(PHONE) && !dbg.contains("张三"));
}

#[test]
fn skip_optional_steps() {
    let mut chat = Chat::new();
    let out = play(
        &mut chat,
        &[
            (
                "举报",
                &["bots-report-intro", "bots-report-ask-description"],
            ),
            (DESCRIPTION, &["bots-report-ask-categories-suggested"]),
            ("14", &["bots-report-ask-target-name-offer"]),
            ("李四", &["bots-report-ask-target-kind"]),
            ("4", &["bots-report-ask-place"]),
            ("跳过", &["bots-report-ask-when"]),
            ("不记得", &["bots-report-ask-amount"]),
            ("SKIP", &["bots-report-ask-evidence"]),
            ("没有", &["bots-report-ask-anonymous"]),
            ("2", &["bots-report-ask-name"]),
            ("王五", &["bots-report-ask-id-number"]),
            ("跳过", &["bots-report-ask-phone"]),
            // The phone is required.
            (
                "跳过",
                &[
                    "bots-cannot-skip",
                    "bots-hint-phone",
                    "bots-report-ask-phone",
                ],
            ),
            ("+86 139-0000-1111", &["bots-report-ask-relation"]),
            ("知情群众", &["bots-report-ask-notify-by"]),
            // Skipped: the default, this chat (no `notify_by` in the report).
            ("跳过", &["bots-report-summary", "bots-report-ask-confirm"]),
            ("1", &[]),
        ],
    );
    assert_eq!(
        expect_draft(&out).to_json(),
        json!({
            "target": { "name": "李四", "kind": "insured_person" },
            "categories": ["other"],
            "description": DESCRIPTION,
            "reporter": { "anonymous": false, "name": "王五", "phone": "13900001111",
                          "relation": "public" },
            "locale": "zh-CN"
        })
    );
}

#[test]
fn cancel_at_every_step() {
    let script = anonymous_script();
    // After 1..=10 messages the report is open; "取消" ends it wherever it is.
    for k in 1..script.len() {
        let mut chat = Chat::new();
        play(&mut chat, &script[..k]);
        assert!(chat.state.is_some(), "open after {k}");
        let out = chat.say(if k % 2 == 0 { "取消" } else { "cancel" });
        assert_eq!(heads(&out), ["bots-cancelled"], "after {k}");
        assert!(out.state.is_none() && out.action.is_none());
        // Nothing left to cancel.
        assert_eq!(heads(&chat.say("取消")), ["bots-nothing-to-cancel"]);
    }
    // The status flow too.
    let mut chat = Chat::new();
    chat.say("查询");
    chat.say("123456789012");
    assert_eq!(heads(&chat.say("退出")), ["bots-cancelled"]);
}

#[test]
fn nonsense_at_every_step_rehints_then_helps() {
    let script = anonymous_script();
    let mut chat = Chat::new();
    for (i, (input, _)) in script.iter().enumerate() {
        if let Some(step) = chat.step_id().map(str::to_string) {
            for attempt in 1..=4u8 {
                let out = chat.say("嗯");
                let ids = heads(&out);
                assert_eq!(chat.step_id(), Some(step.as_str()), "stays on {step}");
                assert_eq!(chat.state.as_ref().unwrap().attempts_on_step, attempt);
                assert!(ids[0].contains("hint"), "{step}: {ids:?}");
                let hint = &out.replies[0];
                assert!(hint.args.contains(&("attempt".into(), attempt.to_string())));
                let stuck = ids.contains(&"bots-stuck");
                assert_eq!(stuck, attempt >= 3, "{step} attempt {attempt}: {ids:?}");
                // The question is always asked again, last.
                let ask_again = ids.last().unwrap();
                assert!(ask_again.contains("ask"), "{step}: {ids:?}");
            }
        }
        let out = chat.say(input);
        assert_eq!(
            heads(&out),
            script[i].1.to_vec(),
            "after nonsense, line {i}"
        );
        if let Some(s) = &chat.state {
            assert_eq!(s.attempts_on_step, 0, "reset on a new step");
        }
    }
    assert!(chat.state.is_none());
}

#[test]
fn expiry_after_thirty_minutes() {
    let mut chat = Chat::new();
    play(&mut chat, &anonymous_script()[..3]);
    // Exactly 30 minutes later is still fine.
    chat.now = chat.state.as_ref().unwrap().updated_at + EXPIRY_SECS;
    assert_eq!(
        heads(&chat.say("某某镇卫生院")),
        ["bots-report-kind-inferred", "bots-report-ask-place"]
    );
    // One second more than 30 minutes: dropped, then the input is handled fresh.
    chat.now = chat.state.as_ref().unwrap().updated_at + EXPIRY_SECS + 1;
    let out = chat.say("医院");
    assert_eq!(heads(&out), ["bots-expired", "bots-unknown"]);
    assert!(out.state.is_none());
    // Expired, and a command starts over straight away.
    let mut chat = Chat::new();
    play(&mut chat, &anonymous_script()[..2]);
    chat.now += 3600;
    let out = chat.say("举报");
    assert_eq!(
        heads(&out),
        [
            "bots-expired",
            "bots-report-intro",
            "bots-report-ask-description"
        ]
    );
    assert!(out.state.unwrap().slots.is_empty());
}

#[test]
fn english_locale() {
    let mut chat = Chat::new();
    let out = play(
        &mut chat,
        &[
            (
                "Report",
                &["bots-report-intro", "bots-report-ask-description"],
            ),
            (
                "The clinic bills the insurance for check-ups that never happened.",
                &["bots-report-ask-categories"],
            ),
            ("fictitious_services, 3", &["bots-report-ask-target-name"]),
            ("Sunshine Clinic", &["bots-report-ask-target-kind"]),
            ("clinic", &["bots-report-ask-place"]),
            ("371502", &["bots-report-ask-when"]),
            ("2025-01 to 2025-02", &["bots-report-ask-amount"]),
            ("3000", &["bots-report-ask-evidence"]),
            ("skip", &["bots-report-ask-anonymous"]),
            ("anonymous", &["bots-report-ask-claim-verifier"]),
            // Not six characters: the hint, then a good one.
            (
                "12345",
                &["bots-hint-id-last6", "bots-report-ask-claim-verifier"],
            ),
            ("54321x", &["bots-report-ask-notify-by"]),
            ("here", &["bots-report-summary", "bots-report-ask-confirm"]),
        ],
    );
    assert_eq!(out.locale, Locale::En);
    let text = chat.fake.render(&out);
    assert!(
        text.contains(
            "Kind of problem: Forged records or receipts; Billing for services never given"
        ),
        "{text}"
    );
    assert!(text.contains("Where: 371502"));
    // Read back with only its last character.
    assert!(text.contains("Last 6 of ID number: *****X"), "{text}");
    assert!(!text.contains("54321"), "{text}");
    assert!(text.contains("1. ") || text.contains("reply 1"));
    let out = chat.say("yes");
    let d = expect_draft(&out);
    assert_eq!(d.locale, Locale::En);
    let j = d.to_json();
    assert_eq!(j["locale"], "en");
    assert_eq!(
        j["target"],
        json!({ "name": "Sunshine Clinic", "kind": "clinic", "region_code": "371502" })
    );
    assert_eq!(
        j["reporter"],
        json!({ "anonymous": true, "claim_verifier": "54321X", "notify_by": "channel" })
    );
    assert_eq!(j["occurred_from"], "2025-01-01");
    assert_eq!(j["occurred_to"], "2025-02-28");
    assert_eq!(
        j["categories"],
        json!(["fake_documents", "fictitious_services"])
    );
}

#[test]
fn language_follows_command_words() {
    let mut chat = Chat::new();
    assert_eq!(chat.say("help").locale, Locale::En);
    assert_eq!(chat.say("帮助").locale, Locale::ZhCn);
    // Switching mid-flow keeps the answers and asks again in the new language.
    chat.say("举报");
    chat.say(DESCRIPTION);
    let out = chat.say("english");
    assert_eq!(out.locale, Locale::En);
    assert_eq!(
        heads(&out),
        ["bots-language-set", "bots-report-ask-categories-suggested"]
    );
    let s = chat.state.as_ref().unwrap();
    assert_eq!(s.locale, Locale::En);
    assert!(s.slots.contains_key("description"));
    // Unknown English text with no conversation gets English help.
    let mut chat = Chat::new();
    let out = chat.say("hello there");
    assert_eq!(
        (heads(&out), out.locale),
        (vec!["bots-unknown"], Locale::En)
    );
    let out = chat.say("你们是干什么的");
    assert_eq!(
        (heads(&out), out.locale),
        (vec!["bots-unknown"], Locale::ZhCn)
    );
}

#[test]
fn status_flow_with_sloppy_input() {
    let mut chat = Chat::new();
    let out = play(
        &mut chat,
        &[
            (
                "[key:QUERY]",
                &["bots-status-intro", "bots-status-ask-code"],
            ),
            ("12345", &["bots-status-hint-code", "bots-status-ask-code"]),
            ("1234 5678 9012", &["bots-status-ask-passcode"]),
            ("１２３４-５６７８ 9012 3456", &[]),
        ],
    );
    assert_eq!(
        out.action,
        Some(Action::LookupStatus {
            tracking_code: "123456789012".into(),
            passcode: "1234567890123456".into()
        })
    );
    assert!(out.state.is_none());
    // The hint names the length.
    let mut chat = Chat::new();
    chat.say("status");
    let out = chat.say("12-34");
    assert!(out.replies[0].args.contains(&("len".into(), "12".into())));
    assert_eq!(out.locale, Locale::En);
}

#[test]
fn state_moves_between_instances() {
    // Two engines (two servers); the state travels as JSON between every message.
    let a = built_in();
    let b = built_in();
    let mut state: Option<Conversation> = None;
    let mut last = None;
    for (i, (input, want)) in anonymous_script().into_iter().enumerate() {
        let engine = if i % 2 == 0 { &a } else { &b };
        let out = engine.step(state.take(), parse_input(input), NOW + i as i64 * 60);
        assert_eq!(heads(&out), want.to_vec(), "line {i}");
        state = out.state.as_ref().map(|s| {
            let row = serde_json::to_value(s).unwrap();
            assert_eq!(row["locale"], "zh-CN");
            serde_json::from_value(row).unwrap()
        });
        assert_eq!(state, out.state);
        last = Some(out);
    }
    assert!(matches!(last.unwrap().action, Some(Action::FileReport(_))));
}

#[test]
fn summary_no_starts_again() {
    let mut chat = Chat::new();
    let script = anonymous_script();
    play(&mut chat, &script[..script.len() - 1]);
    let out = chat.say("2");
    assert_eq!(
        heads(&out),
        ["bots-restarted", "bots-report-ask-description"]
    );
    let s = out.state.unwrap();
    assert!(s.slots.is_empty() && s.media.is_empty());
}

#[test]
fn global_commands_and_media_outside_flow() {
    let mut chat = Chat::new();
    let out = chat.say("[subscribe]");
    assert_eq!(heads(&out), ["bots-welcome"]);
    assert!(out.state.is_none());
    assert_eq!(heads(&chat.say("[img:x]")), ["bots-media-outside"]);
    assert_eq!(heads(&chat.say("[voice:v]")), ["bots-media-outside"]);
    assert_eq!(heads(&chat.say("3")), ["bots-help"]);
    // "1" after the welcome starts a report; inside a flow "1" is an answer.
    let out = chat.say("1");
    assert_eq!(
        heads(&out),
        ["bots-report-intro", "bots-report-ask-description"]
    );
    // A photo too early: explained, not counted as a wrong answer, question again.
    let out = chat.say("[img:early]");
    assert_eq!(
        heads(&out),
        ["bots-media-outside", "bots-report-ask-description"]
    );
    assert_eq!(chat.state.as_ref().unwrap().attempts_on_step, 0);
    // A location is not a description.
    let out = chat.say("[loc:1.0,2.0|某地]");
    assert_eq!(
        heads(&out),
        [
            "bots-report-hint-description",
            "bots-report-ask-description"
        ]
    );
    // Help inside a flow keeps the place.
    chat.say(DESCRIPTION);
    let out = chat.say("帮助");
    assert_eq!(
        heads(&out),
        [
            "bots-help",
            "bots-help-in-flow",
            "bots-report-ask-categories-suggested"
        ]
    );
    assert_eq!(chat.step_id(), Some("categories"));
    // Starting the other flow replaces this one.
    let out = chat.say("查询");
    assert_eq!(
        heads(&out),
        [
            "bots-restarted",
            "bots-status-intro",
            "bots-status-ask-code"
        ]
    );
    // A menu click works like the word.
    let out = chat.say("[key:REPORT]");
    assert_eq!(
        heads(&out),
        [
            "bots-restarted",
            "bots-report-intro",
            "bots-report-ask-description"
        ]
    );
    assert_eq!(chat.engine.command_for_key("HELP"), Some(Cmd::Help));
    assert_eq!(chat.engine.command_for_key("NOPE"), None);
}

#[test]
fn choice_lists_are_numbered_with_labels() {
    let mut chat = Chat::new();
    chat.say("举报");
    let out = chat.say(DESCRIPTION);
    let lines: Vec<_> = out.replies.iter().filter(|m| m.line).collect();
    assert_eq!(lines.len(), 14);
    let text = chat.fake.render(&out);
    assert!(text.contains("\n1. 假病人，虚假就医\n2. 假病情"), "{text}");
    assert!(text.contains("\n14. 其他问题"));
}

#[test]
fn media_step_limits_and_done_without_items() {
    let mut chat = Chat::new();
    play(&mut chat, &anonymous_script()[..7]);
    assert_eq!(chat.step_id(), Some("evidence"));
    for i in 1..20 {
        let out = chat.say(&format!("[img:m{i}]"));
        assert_eq!(heads(&out), ["bots-media-received"]);
    }
    let out = chat.say("[img:m20]");
    assert_eq!(
        heads(&out),
        ["bots-media-full", "bots-report-ask-anonymous"]
    );
    assert_eq!(chat.state.as_ref().unwrap().media.len(), 20);
}

#[test]
fn custom_checks_are_used() {
    struct NoPhones;
    impl Checks for NoPhones {
        fn resident_id(&self, s: &str) -> Option<String> {
            ShapeChecks.resident_id(s)
        }
        fn id_last6(&self, s: &str) -> Option<String> {
            ShapeChecks.id_last6(s)
        }
        fn phone(&self, _: &str) -> Option<String> {
            None
        }
        fn region(&self, s: &str) -> Option<String> {
            (s == "999999").then(|| s.to_string())
        }
    }
    let engine = Engine::built_in(NoPhones);
    let mut state = None;
    let script = [
        "举报",
        DESCRIPTION,
        "1",
        "某医院",
        "1",
        // Full-width, as Chinese input methods type it: the checks get it folded.
        "９９９９９９",
        "跳过",
        "跳过",
        "跳过",
        "2",
        "张三",
        "跳过",
    ];
    for s in script {
        state = engine.step(state, parse_input(s), NOW).state;
    }
    let s = state.unwrap();
    assert_eq!(s.step, "phone");
    assert_eq!(s.slots["place"], json!({ "region_code": "999999" }));
    let out = engine.step(Some(s), Input::Text(PHONE.into()), NOW);
    assert_eq!(out.replies[0].id, "bots-hint-phone");
}

// ---------------------------------------------------------------------------------------
// Flow files.

const GOOD: &str = r#"
id = "t"
start = "a"
[[step]]
id = "a"
ask = "m-a"
slot = "tracking_code"
expect = { kind = "digits", len = 3 }
next = "b"
[[step]]
id = "b"
ask = "m-b"
slot = "passcode"
expect = "text"
finish = "lookup_status"
"#;

fn step_problem(text: &str) -> (String, Problem) {
    match Flow::from_toml("t.toml", text) {
        Err(e @ FlowError::Step { .. }) => {
            let shown = e.to_string();
            let FlowError::Step {
                file,
                step,
                problem,
            } = e
            else {
                unreachable!()
            };
            assert_eq!(file, "t.toml");
            assert!(
                shown.contains("t.toml") && shown.contains(&format!("`{step}`")),
                "{shown}"
            );
            (step, problem)
        }
        other => panic!("expected a step error, got {other:?}"),
    }
}

#[test]
fn flow_validation_errors_name_the_step() {
    assert!(Flow::from_toml("t.toml", GOOD).is_ok());
    assert_eq!(
        step_problem(&GOOD.replace("next = \"b\"", "next = \"nowhere\"")),
        ("a".into(), Problem::DanglingNext("nowhere".into()))
    );
    assert_eq!(
        step_problem(&GOOD.replace("slot = \"passcode\"", "slot = \"tracking_code\"")),
        ("b".into(), Problem::DuplicateSlot("tracking_code".into()))
    );
    assert_eq!(
        step_problem(&GOOD.replace("expect = \"text\"", "expect = \"telepathy\"")),
        ("b".into(), Problem::UnknownExpect("telepathy".into()))
    );
    assert_eq!(
        step_problem(&GOOD.replace("kind = \"digits\"", "kind = \"dna\"")),
        ("a".into(), Problem::UnknownExpect("dna".into()))
    );
    assert_eq!(
        step_problem(&GOOD.replace("id = \"b\"", "id = \"a\"")),
        ("a".into(), Problem::DuplicateStep)
    );
    let extra = format!(
        "{GOOD}\n[[step]]\nid = \"island\"\nask = \"m-c\"\nslot = \"x\"\nexpect = \"phone\"\nnext = \"b\"\n"
    );
    assert_eq!(
        step_problem(&extra),
        ("island".into(), Problem::Unreachable)
    );
    assert_eq!(
        step_problem(&GOOD.replace("next = \"b\"", "")),
        ("a".into(), Problem::NoWayOn)
    );
    assert_eq!(
        step_problem(&GOOD.replace("finish = \"lookup_status\"", "finish = \"launch\"")),
        ("b".into(), Problem::UnknownFinish("launch".into()))
    );
    assert_eq!(
        step_problem(&GOOD.replace("slot = \"passcode\"", "slot = \"other\"")),
        ("b".into(), Problem::FinishNeedsSlot("passcode".into()))
    );
    assert_eq!(
        step_problem(&GOOD.replace("len = 3", "len = 0")).1,
        Problem::BadExpect("`len` between 1 and 64 is required".into())
    );
    let branch = GOOD.replace(
        "next = \"b\"",
        "next = \"b\"\n[[step.branch]]\nif_slot = \"ghost\"\nequals = \"x\"\ngoto = \"b\"",
    );
    assert_eq!(
        step_problem(&branch),
        ("a".into(), Problem::UnknownBranchSlot("ghost".into()))
    );
    let ambiguous = GOOD.replace(
        "expect = \"text\"",
        "expect = { kind = \"choice\", options = [{ value = \"x\", label = \"m-x\", aliases = [\"2\"] }, { value = \"y\", label = \"m-y\" }] }",
    );
    assert!(matches!(step_problem(&ambiguous).1, Problem::BadExpect(m) if m.contains("`2`")));

    // File-level problems name the file.
    let e = Flow::from_toml("t.toml", &GOOD.replace("start = \"a\"", "start = \"z\"")).unwrap_err();
    assert!(e.to_string().starts_with("t.toml: start step `z`"), "{e}");
    let e = Flow::from_toml("t.toml", "id = \"t\"\nstart = ").unwrap_err();
    assert!(matches!(e, FlowError::Parse { .. }));
    let e = Flow::from_toml(
        "t.toml",
        &GOOD.replace("ask = \"m-a\"", "ask = \"m-a\"\ncolour = 1"),
    )
    .unwrap_err();
    assert!(e.to_string().contains("colour"), "{e}");
}

#[test]
fn load_from_a_directory() {
    let dir = &format!("{ROOT}/bots");
    let engine = Engine::load(dir, ShapeChecks).unwrap();
    assert_eq!(engine.message_ids(), built_in().message_ids());

    let tmp = std::env::temp_dir().join(format!("dialog-flows-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    for f in ["menu.toml", "report.toml", "status.toml"] {
        std::fs::copy(format!("{dir}/{f}"), tmp.join(f)).unwrap();
    }
    let status = std::fs::read_to_string(tmp.join("status.toml")).unwrap();
    std::fs::write(
        tmp.join("status.toml"),
        status.replace("next = \"passcode\"", "next = \"pascode\""),
    )
    .unwrap();
    let e = Engine::load(&tmp, ShapeChecks).unwrap_err().to_string();
    assert!(
        e.contains("status.toml") && e.contains("`tracking_code`") && e.contains("pascode"),
        "{e}"
    );
    std::fs::remove_file(tmp.join("status.toml")).unwrap();
    let e = Engine::load(&tmp, ShapeChecks).unwrap_err().to_string();
    assert!(e.contains("status"), "{e}");
    std::fs::remove_dir_all(&tmp).unwrap();
    assert!(matches!(
        Engine::load("/nonexistent/bots", ShapeChecks),
        Err(FlowError::Io { .. })
    ));
}

#[test]
fn menu_words_must_not_clash() {
    let menu = include_str!("../../../bots/menu.toml");
    assert!(Menu::from_toml("menu.toml", menu).is_ok());
    let clash = menu.replace("zh = [\"取消\"", "zh = [\"举报\", \"取消\"");
    let e = Menu::from_toml("menu.toml", &clash)
        .unwrap_err()
        .to_string();
    assert!(e.contains("`举报`"), "{e}");
}

// ---------------------------------------------------------------------------------------
// Message catalogue.

fn ftl_ids(locale: Locale) -> BTreeSet<String> {
    let path = format!("{ROOT}/locales/{}/bots.ftl", locale.tag());
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let (id, _) = l.split_once(" =")?;
            let ok = id.chars().next()?.is_ascii_alphabetic()
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            ok.then(|| id.to_string())
        })
        .collect()
}

#[test]
fn every_message_id_exists_in_both_locales() {
    let zh = ftl_ids(Locale::ZhCn);
    let en = ftl_ids(Locale::En);
    let used = built_in().message_ids();
    let missing_zh: Vec<_> = used.difference(&zh).collect();
    let missing_en: Vec<_> = used.difference(&en).collect();
    assert!(missing_zh.is_empty(), "missing in zh-CN: {missing_zh:?}");
    assert!(missing_en.is_empty(), "missing in en: {missing_en:?}");
    assert_eq!(zh, en, "the two files define different ids");
    // And every message id named in the flow files appears there literally.
    for f in ["report.toml", "status.toml"] {
        let text = std::fs::read_to_string(format!("{ROOT}/bots/{f}")).unwrap();
        for word in text.split('"').filter(|w| w.starts_with("bots-")) {
            assert!(zh.contains(word), "{f}: {word}");
        }
    }
    assert!(ENGINE_MESSAGES.iter().all(|m| zh.contains(*m)));
}

// ---------------------------------------------------------------------------------------
// Parsers and checks.

#[test]
fn amount_parsing() {
    let cases: &[(&str, Option<i64>)] = &[
        ("1200", Some(120_000)),
        ("1,200", Some(120_000)),
        ("1200.50", Some(120_050)),
        ("1200.5", Some(120_050)),
        ("1.2万", Some(1_200_000)),
        ("1.2万元", Some(1_200_000)),
        ("3千", Some(300_000)),
        ("2亿", Some(20_000_000_000)),
        ("12.3456万", Some(12_345_600)),
        ("¥88", Some(8_800)),
        ("８８元", Some(8_800)),
        ("500块钱", Some(50_000)),
        ("0", Some(0)),
        ("0.01", Some(1)),
        ("1200.500", Some(120_050)),
        ("abc", None),
        ("-5", None),
        ("-1,200", None),
        ("", None),
        ("1200.", None),
        (".5", None),
        ("1200.555", None),
        ("1,,200", None),
        (",1200", None),
        ("1.2.3", None),
        ("1e5", None),
        ("99999999999999999999", None),
        ("10000000000001", None), // more than 10^15 fen
        ("10000000000000", Some(1_000_000_000_000_000)),
    ];
    for (s, want) in cases {
        assert_eq!(parse_amount_fen(s), *want, "{s:?}");
    }
    assert_eq!(format_yuan(120_050), "1,200.50");
    assert_eq!(format_yuan(1_200_000), "12,000");
    assert_eq!(format_yuan(5), "0.05");
}

#[test]
fn format_yuan_groups_thousands() {
    let cases = [
        (0, "0"),
        (5, "0.05"),
        (100, "1"),
        (99_999, "999.99"),
        (100_000, "1,000"),
        (120_050, "1,200.50"),
        (1_200_000, "12,000"),
        (12_345_678_900, "123,456,789"),
        (-120_050, "-1,200.50"),
    ];
    for (fen, want) in cases {
        assert_eq!(format_yuan(fen), want, "{fen}");
    }
}

#[test]
fn date_parsing() {
    let today = chrono::NaiveDate::from_ymd_opt(2025, 6, 15).unwrap();
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let cases: &[(&str, Option<(&str, &str)>)] = &[
        ("2025-03-05", Some(("2025-03-05", "2025-03-05"))),
        ("2025/3/5", Some(("2025-03-05", "2025-03-05"))),
        ("2025年3月5日", Some(("2025-03-05", "2025-03-05"))),
        ("2025.03.05", Some(("2025-03-05", "2025-03-05"))),
        ("20250305", Some(("2025-03-05", "2025-03-05"))),
        ("2025-02", Some(("2025-02-01", "2025-02-28"))),
        ("2024年2月", Some(("2024-02-01", "2024-02-29"))),
        ("2025-06", Some(("2025-06-01", "2025-06-15"))),
        ("今天", Some(("2025-06-15", "2025-06-15"))),
        ("昨天。", Some(("2025-06-14", "2025-06-14"))),
        ("前天", Some(("2025-06-13", "2025-06-13"))),
        ("上个月", Some(("2025-05-01", "2025-05-31"))),
        ("this month", Some(("2025-06-01", "2025-06-15"))),
        ("去年", Some(("2024-01-01", "2024-12-31"))),
        (
            "2025-01-10 至 2025-02-03",
            Some(("2025-01-10", "2025-02-03")),
        ),
        ("2024年11月到2025年1月", Some(("2024-11-01", "2025-01-31"))),
        ("2025-02-03 ~ 2025-01-10", None),
        ("2025-06-16", None),
        ("2025-07", None),
        ("2025-02-30", None),
        ("2025-13", None),
        ("1800-01-01", None),
        ("25-3-5", None),
        ("明年", None),
        ("", None),
        ("2025--03", None),
    ];
    for (s, want) in cases {
        let want = want.map(|(a, b)| (d(a), d(b)));
        assert_eq!(parse_when(s, today), want, "{s:?}");
    }
}

#[test]
fn masks() {
    assert_eq!(mask_resident_id(ID), "110***********002X");
    assert_eq!(mask_phone(PHONE), "138****8000");
    assert_eq!(mask_phone("123"), "***");
}

#[test]
fn conversation_debug_hides_values() {
    let mut chat = Chat::new();
    play(
        &mut chat,
        &[(
            "举报",
            &["bots-report-intro", "bots-report-ask-description"],
        )],
    );
    let s = chat.state.clone().unwrap();
    let out = built_in().step(Some(s), Input::Text(format!("{DESCRIPTION}{PHONE}")), NOW);
    let dbg = format!("{:?}", out.state.unwrap());
    assert!(!dbg.contains(PHONE) && dbg.contains("description"), "{dbg}");
}

// ---------------------------------------------------------------------------------------
// Property test: `step` never panics and never goes silent, whatever arrives.

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn random_text(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "举报",
        "查询",
        "取消",
        "帮助",
        "跳过",
        "完成",
        "1",
        "2",
        "14",
        "0",
        "-",
        ",",
        ".",
        "万",
        "亿",
        "元",
        "¥",
        " ",
        "\n",
        "\u{0}",
        "\u{202e}",
        "🙂",
        "医院",
        "x",
        "X",
        "report",
        "yes",
        "no",
        "skip",
        "done",
        "english",
        "中文",
        "2025",
        "年",
        "月",
        "日",
        "至",
        "~",
        "9999999999999999999999",
        "-1",
        "１",
        "　",
        "'",
        "\"",
        "{ $x }",
        "110105",
        "19491231002X",
        "13800138000",
        "é",
        "ǅ",
        "\u{FFFF}",
        "今天",
        "上个月",
    ];
    let n = rng.below(8);
    let mut s = String::new();
    for _ in 0..n {
        if rng.below(4) == 0 {
            // A random code point, any plane.
            let c = char::from_u32((rng.next() % 0x11_0000) as u32).unwrap_or('?');
            s.push(c);
        } else {
            s.push_str(PIECES[rng.below(PIECES.len())]);
        }
    }
    s
}

fn random_input(rng: &mut Rng) -> Input {
    match rng.below(12) {
        0 => Input::Image {
            media_id: random_text(rng),
        },
        1 => Input::Voice {
            media_id: "v".into(),
            recognition: (rng.below(2) == 0).then(|| random_text(rng)),
        },
        2 => Input::Location {
            x: f64::from_bits(rng.next()),
            y: if rng.below(2) == 0 { f64::NAN } else { 1.5 },
            label: random_text(rng),
        },
        3 => Input::Link {
            title: random_text(rng),
            url: random_text(rng),
        },
        4 => Input::Command(
            [
                Cmd::Report,
                Cmd::Status,
                Cmd::Help,
                Cmd::Cancel,
                Cmd::Subscribe,
                Cmd::English,
            ][rng.below(6)],
        ),
        _ => Input::Text(random_text(rng)),
    }
}

#[test]
fn step_never_panics_on_arbitrary_input() {
    let engine = built_in();
    let fake = Fake::new();
    let ids = engine.message_ids();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for run in 0..300 {
        let mut state = None;
        let mut now = NOW + rng.below(1_000_000) as i64;
        // Start half of the runs inside the report so the later steps are reached.
        if run % 2 == 0 {
            state = engine.step(None, Input::Text("举报".into()), now).state;
        }
        for _ in 0..60 {
            let input = random_input(&mut rng);
            now = now.saturating_add([0, 5, 60, 1801, -100][rng.below(5)]);
            if rng.below(50) == 0 {
                now = [i64::MIN, i64::MAX, 0][rng.below(3)];
            }
            let out = engine.step(state.take(), input, now);
            assert!(!out.replies.is_empty() || out.action.is_some());
            for m in &out.replies {
                assert!(ids.contains(&m.id), "unknown id {}", m.id);
            }
            fake.render(&out);
            if let Some(s) = &out.state {
                assert!(s.attempts_on_step <= 60);
                let json = serde_json::to_string(s).unwrap();
                let back: Conversation = serde_json::from_str(&json).unwrap();
                assert_eq!(&back, s);
            }
            state = out.state;
        }
    }
}

/// Walk the report flow with random valid-looking answers mixed in, so that every step and
/// the finish are exercised by the random driver as well.
#[test]
fn random_walks_reach_the_end() {
    let engine = built_in();
    let mut rng = Rng(42);
    let answers = anonymous_script();
    let mut finished = 0;
    for _ in 0..100 {
        let mut state = None;
        for (input, _) in &answers {
            if rng.below(3) == 0 {
                state = engine.step(state.take(), random_input(&mut rng), NOW).state;
                if state.is_none() {
                    break;
                }
            }
            let out = engine.step(state.take(), parse_input(input), NOW);
            if out.action.is_some() {
                finished += 1;
            }
            state = out.state;
        }
    }
    assert!(finished > 0);
}

/// `cargo test print_transcript -- --ignored --nocapture` shows two whole conversations as
/// the user would read them (with the fake localizer).
#[test]
#[ignore]
fn print_transcript() {
    for (lang, script) in [
        (
            "zh",
            vec![
                "[subscribe]",
                "举报",
                "嗯",
                DESCRIPTION,
                "1 6",
                "某某镇卫生院",
                "2",
                "聊城市东昌府区某某镇",
                "2025年3月",
                "1.2万",
                "[img:p]",
                "完成",
                "2",
                "张三",
                ID,
                "嗯",
                "嗯",
                "嗯",
                PHONE,
                "1",
                "1",
            ],
        ),
        (
            "en",
            vec![
                "report",
                "The clinic bills for check-ups that never happened.",
                "4",
                "Sunshine Clinic",
                "2",
                "skip",
                "x",
                "yesterday",
                "1200",
                "done",
                "1",
                "2",
            ],
        ),
    ] {
        let mut chat = Chat::new();
        println!("===== {lang}");
        for s in script {
            let out = chat.say(s);
            println!(">>> {s}\n{}\n", chat.fake.render(&out));
        }
    }
}
