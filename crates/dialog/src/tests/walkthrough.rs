//! The guided report as an elderly reporter answers it (issue 24): the description already
//! says most of it, and "对", "不清楚", "去年冬天", "两千多块" are answers.

use super::*;

const ELDERLY: &str = "村卫生室的医生拿我们老人的医保卡刷卡开药，药没给我们，钱被他们报销了";

#[test]
fn the_description_answers_most_questions() {
    let mut chat = Chat::new();
    let out = play(
        &mut chat,
        &[
            (
                "举报",
                &["bots-report-intro", "bots-report-ask-description"],
            ),
            (ELDERLY, &["bots-report-ask-categories-suggested"]),
        ],
    );
    let text = chat.fake.render(&out);
    assert!(
        text.contains("听起来像是：没做的检查、治疗也收钱；冒名就医、出借医保卡。对吗？"),
        "{text}"
    );
    // The numbered list follows, for "其他编号".
    assert!(text.contains("\n5. 冒名就医、出借医保卡"), "{text}");
    let out = play(
        &mut chat,
        &[
            ("对", &["bots-report-ask-target-name-offer"]),
            (
                "对的",
                &["bots-report-kind-inferred", "bots-report-ask-place"],
            ),
        ],
    );
    let text = chat.fake.render(&out);
    assert!(
        text.contains("按名称，对象类型记为：诊所、卫生室。"),
        "{text}"
    );
    let out = play(
        &mut chat,
        &[
            ("不清楚", &["bots-report-ask-when"]),
            ("去年冬天", &["bots-report-ask-amount"]),
            ("两千多块", &["bots-report-ask-evidence"]),
            ("没有", &["bots-report-ask-anonymous"]),
            ("1", &["bots-report-ask-claim-verifier"]),
            ("跳过", &["bots-report-ask-notify-by"]),
            ("都行", &["bots-report-summary", "bots-report-ask-confirm"]),
        ],
    );
    let text = chat.fake.render(&out);
    for want in [
        "问题类型：没做的检查、治疗也收钱；冒名就医、出借医保卡",
        "被举报对象：村卫生室",
        "对象类型：诊所、卫生室",
        "时间：2024年12月到2025年2月",
        "涉及金额：2,000 多元（记为约 2,500 元）",
    ] {
        assert!(text.contains(want), "{want} not in:\n{text}");
    }
    let d = expect_draft(&chat.say("1")).clone();
    assert_eq!(
        d.to_json(),
        json!({
            "target": { "name": "村卫生室", "kind": "clinic" },
            "categories": ["fictitious_services", "identity_misuse"],
            "description": ELDERLY,
            "occurred_from": "2024-12-01",
            "occurred_to": "2025-02-28",
            "amount_estimate_fen": 250_000,
            "reporter": { "anonymous": true, "notify_by": "channel" },
            "locale": "zh-CN"
        })
    );
    assert!(!d.needs_classification);
}

#[test]
fn a_date_and_an_amount_in_the_description_are_offered() {
    let mut chat = Chat::new();
    let desc = "上个月10号在幸福大药房刷医保卡买了洗发水，花了三百多块，说是能报销";
    let out = play(
        &mut chat,
        &[
            (
                "举报",
                &["bots-report-intro", "bots-report-ask-description"],
            ),
            (desc, &["bots-report-ask-categories-suggested"]),
            ("10", &["bots-report-ask-target-name-offer"]),
        ],
    );
    assert!(chat.fake.render(&out).contains("“幸福大药房”"));
    let out = play(
        &mut chat,
        &[
            (
                "是的",
                &["bots-report-kind-inferred", "bots-report-ask-place"],
            ),
            ("跳过", &["bots-report-ask-when-offer"]),
        ],
    );
    let text = chat.fake.render(&out);
    assert!(
        text.contains("您前面说的时间是“上个月10号”，也就是 2025年5月10日，对吗？"),
        "{text}"
    );
    let out = play(&mut chat, &[("对", &["bots-report-ask-amount-offer"])]);
    let text = chat.fake.render(&out);
    assert!(
        text.contains("您前面说的金额是“三百多块”，记为 300 多元（记为约 350 元），对吗？"),
        "{text}"
    );
    // Turned down: asked plainly, then answered in words.
    play(
        &mut chat,
        &[
            ("不对", &["bots-report-ask-amount"]),
            ("五六百", &["bots-report-ask-evidence"]),
        ],
    );
    let s = chat.state.as_ref().unwrap();
    assert_eq!(
        s.slots["when"],
        json!({ "from": "2025-05-10", "to": "2025-05-10" })
    );
    assert_eq!(s.slots["amount"], json!(55_000));
    assert_eq!(s.slots["target_kind"], json!("pharmacy"));
}

#[test]
fn not_knowing_the_category_is_an_answer() {
    let mut chat = Chat::new();
    let out = play(
        &mut chat,
        &[
            (
                "举报",
                &["bots-report-intro", "bots-report-ask-description"],
            ),
            // Nothing in it to suggest.
            (
                "有人拿医保的钱乱来，我也说不清楚是怎么回事",
                &["bots-report-ask-categories"],
            ),
            (
                "我不知道是哪一类",
                &[
                    "bots-report-categories-unsure",
                    "bots-report-ask-target-name",
                ],
            ),
        ],
    );
    let text = chat.fake.render(&out);
    assert!(
        text.contains("没关系，我们先记为“其他问题”，工作人员会帮您分类。"),
        "{text}"
    );
    play(
        &mut chat,
        &[
            ("王某某", &["bots-report-ask-target-kind"]),
            ("个人", &["bots-report-ask-place"]),
            ("不知道", &["bots-report-ask-when"]),
            ("记不清了", &["bots-report-ask-amount"]),
            ("不知道多少", &["bots-report-ask-evidence"]),
            ("没有", &["bots-report-ask-anonymous"]),
            ("匿名", &["bots-report-ask-claim-verifier"]),
            // How people answer "leave it out?": in their words, not the menu's.
            ("不想留", &["bots-report-ask-notify-by"]),
            // "I don't know" keeps the default: this chat.
            (
                "不知道",
                &["bots-report-summary", "bots-report-ask-confirm"],
            ),
        ],
    );
    let d = expect_draft(&chat.say("对")).clone();
    assert_eq!(d.categories, ["other"]);
    assert!(d.needs_classification);
    assert_eq!((d.occurred_from, d.amount_estimate_fen), (None, None));
    assert_eq!(d.reporter.claim_verifier, None);
    assert_eq!(d.reporter.notify_by, None);
}

#[test]
fn voice_answers_are_understood_the_same_way() {
    let mut chat = Chat::new();
    play(
        &mut chat,
        &[
            (
                "举报",
                &["bots-report-intro", "bots-report-ask-description"],
            ),
            (
                "[voice:v1|有个诊所老是多收钱，收费太高了，大家都有意见。]",
                &["bots-report-ask-categories-suggested"],
            ),
            ("[voice:v2|对。]", &["bots-report-ask-target-name"]),
            (
                "[voice:v3|幸福诊所。]",
                &["bots-report-kind-inferred", "bots-report-ask-place"],
            ),
            ("[voice:v4|不太清楚。]", &["bots-report-ask-when"]),
            ("[voice:v5|上个月底吧。]", &["bots-report-ask-amount"]),
            ("[voice:v6|大概两三千块钱。]", &["bots-report-ask-evidence"]),
            ("[voice:v7|完成。]", &["bots-report-ask-anonymous"]),
        ],
    );
    let s = chat.state.as_ref().unwrap();
    assert_eq!(s.slots["categories"], json!(["overcharging"]));
    assert_eq!(s.slots["target_kind"], json!("clinic"));
    assert_eq!(
        s.slots["when"],
        json!({ "from": "2025-05-21", "to": "2025-05-31" })
    );
    assert_eq!(s.slots["amount"], json!(250_000));
    // Spoken answers to free-text questions are evidence too; "完成" said aloud is not.
    let ids: Vec<_> = s.media.iter().map(|m| m.media_id.as_str()).collect();
    assert_eq!(ids, ["v1", "v3"]);
}
