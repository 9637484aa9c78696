//! A corpus of everyday answers at the category, kind, date and amount steps, written the
//! way people type and speak (`🎤` = a voice message's recognition text), with the slot
//! value each one means. Today is fixed (2026-03-18, a Wednesday); every expected value is
//! written out by hand. At least 90% of the answers at each step must be understood as
//! meant; the rest must get a hint (never a wrong value) naming the example listed.

mod support;

use serde_json::{json, Value};
use support::*;

#[derive(Debug, Clone, Copy)]
enum Means {
    /// Categories chosen (values, in option order).
    Cats(&'static [&'static str]),
    /// "I don't know" at the category step: `other`, marked for staff.
    Unsure,
    Kind(&'static str),
    When(&'static str, &'static str),
    Fen(i64),
    /// "I don't know" at an optional step: skipped.
    Skip,
    /// Not understood: a hint naming this example.
    Hint(&'static str),
}
use Means::*;

const CATEGORIES: &[(&str, Means)] = &[
    ("5", Cats(&["identity_misuse"])),
    ("五", Cats(&["identity_misuse"])),
    ("第5个", Cats(&["identity_misuse"])),
    ("第五项", Cats(&["identity_misuse"])),
    ("5和8", Cats(&["identity_misuse", "overcharging"])),
    ("5、8", Cats(&["identity_misuse", "overcharging"])),
    ("5 8", Cats(&["identity_misuse", "overcharging"])),
    ("1，3", Cats(&["fake_patient", "fake_documents"])),
    ("8号", Cats(&["overcharging"])),
    ("三和十", Cats(&["fake_documents", "drug_resale"])),
    ("🎤五和八。", Cats(&["identity_misuse", "overcharging"])),
    ("10 7", Cats(&["excessive_treatment", "drug_resale"])),
    ("乱收费", Cats(&["overcharging"])),
    ("刷卡换米面油", Cats(&["drug_resale"])),
    ("没病让住院", Cats(&["fake_patient"])),
    ("拿我的医保卡给别人开药", Cats(&["identity_misuse"])),
    ("多收钱了", Cats(&["overcharging"])),
    ("药没给我们", Cats(&["fictitious_services"])),
    ("开了一大堆药", Cats(&["excessive_treatment"])),
    (
        "人不在医院，床位挂着",
        Cats(&["split_or_bed_hospitalization"]),
    ),
    ("假发票", Cats(&["fake_documents"])),
    ("伪造病历", Cats(&["fake_documents"])),
    ("把自费药按医保报了", Cats(&["out_of_scope_billing"])),
    ("重复报销", Cats(&["duplicate_benefits"])),
    ("医保局的人收好处", Cats(&["agency_misconduct"])),
    ("没做的检查也收钱", Cats(&["fictitious_services"])),
    ("做了一大堆检查", Cats(&["excessive_treatment"])),
    ("倒卖药品", Cats(&["drug_resale"])),
    ("卖药给别人", Cats(&["drug_resale"])),
    ("死了的人还在报销", Cats(&["duplicate_benefits"])),
    ("串换药品", Cats(&["substitution"])),
    ("给我的药和单子上的不一样", Cats(&["substitution"])),
    ("我不知道是哪一类", Unsure),
    ("不清楚", Unsure),
    ("说不上来", Unsure),
    ("🎤这个我也不懂啊。", Unsure),
    ("都不是", Cats(&["other"])),
    ("不知道，好像是乱收费", Cats(&["overcharging"])),
    ("挂床", Cats(&["split_or_bed_hospitalization"])),
    ("冒名顶替看病", Cats(&["identity_misuse"])),
    ("医生乱开药", Cats(&["excessive_treatment"])),
    ("小病大治", Cats(&["excessive_treatment"])),
    ("用医保卡买洗发水", Cats(&["drug_resale"])),
    ("诊所的人拿走了我们的医保卡", Cats(&["identity_misuse"])),
    (
        "没住院却报了住院费",
        Cats(&["split_or_bed_hospitalization"]),
    ),
    ("虚构病情", Cats(&["fake_condition"])),
    ("收费比别的地方贵好多", Hint("8")),
];

const KINDS: &[(&str, Means)] = &[
    ("村卫生室", Kind("clinic")),
    ("大药房", Kind("pharmacy")),
    ("医院", Kind("hospital")),
    ("2", Kind("clinic")),
    ("二", Kind("clinic")),
    ("第三个", Kind("pharmacy")),
    ("县人民医院", Kind("hospital")),
    ("诊所", Kind("clinic")),
    ("个体诊所", Kind("clinic")),
    ("药店", Kind("pharmacy")),
    ("镇卫生院", Kind("clinic")),
    ("社区卫生服务中心", Kind("clinic")),
    ("一个病人", Kind("insured_person")),
    ("医保局的工作人员", Kind("agency_staff")),
    ("卖药的", Kind("pharmacy")),
    ("私人诊所", Kind("clinic")),
    ("中医院", Kind("hospital")),
    ("连锁药店", Kind("pharmacy")),
    ("🎤村里的卫生室。", Kind("clinic")),
    ("参保人", Kind("insured_person")),
    ("其他", Kind("other")),
    ("养老院", Kind("other")),
    ("老百姓", Kind("insured_person")),
    ("药房", Kind("pharmacy")),
    ("门诊部", Kind("clinic")),
    ("卫生所", Kind("clinic")),
    ("市第一人民医院", Kind("hospital")),
    ("医生", Hint("2")),
];

const DATES: &[(&str, Means)] = &[
    ("上个月", When("2026-02-01", "2026-02-28")),
    ("上个月底", When("2026-02-21", "2026-02-28")),
    ("上月初", When("2026-02-01", "2026-02-10")),
    ("前几天", When("2026-03-08", "2026-03-17")),
    ("三个月前", When("2025-12-01", "2025-12-31")),
    ("去年", When("2025-01-01", "2025-12-31")),
    ("前年", When("2024-01-01", "2024-12-31")),
    ("去年冬天", When("2025-12-01", "2026-02-28")),
    ("今年三月份", When("2026-03-01", "2026-03-18")),
    ("十月份", When("2025-10-01", "2025-10-31")),
    ("10月5号", When("2025-10-05", "2025-10-05")),
    ("春节前后", When("2026-02-01", "2026-03-09")),
    ("国庆期间", When("2025-10-01", "2025-10-08")),
    ("最近半年一直这样", When("2025-09-18", "2026-03-18")),
    ("2026.3.5", When("2026-03-05", "2026-03-05")),
    ("2025/10/5", When("2025-10-05", "2025-10-05")),
    ("26年1月", When("2026-01-01", "2026-01-31")),
    ("25年10月", When("2025-10-01", "2025-10-31")),
    ("昨天", When("2026-03-17", "2026-03-17")),
    ("昨天晚上", When("2026-03-17", "2026-03-17")),
    ("前天", When("2026-03-16", "2026-03-16")),
    ("上周", When("2026-03-09", "2026-03-15")),
    ("上个星期三", When("2026-03-11", "2026-03-11")),
    ("去年年底", When("2025-12-01", "2025-12-31")),
    ("今年年初", When("2026-01-01", "2026-02-28")),
    ("两年前", When("2024-01-01", "2024-12-31")),
    ("半年前", When("2025-09-01", "2025-09-30")),
    ("一个多月前", When("2026-02-01", "2026-02-28")),
    ("去年10月5号", When("2025-10-05", "2025-10-05")),
    ("3月5日", When("2026-03-05", "2026-03-05")),
    ("5号", When("2026-03-05", "2026-03-05")),
    ("20号", When("2026-02-20", "2026-02-20")),
    ("去年三月", When("2025-03-01", "2025-03-31")),
    ("2025年3月到5月", When("2025-03-01", "2025-05-31")),
    ("去年十月到今年一月", When("2025-10-01", "2026-01-31")),
    ("从去年开始", When("2025-01-01", "2026-03-18")),
    ("去年到现在", When("2025-01-01", "2026-03-18")),
    ("这两年", When("2024-03-18", "2026-03-18")),
    ("最近三个月", When("2025-12-18", "2026-03-18")),
    ("好几个月了", When("2025-12-18", "2026-03-18")),
    ("一年多了", When("2025-03-18", "2026-03-18")),
    ("过年的时候", When("2026-02-15", "2026-02-23")),
    ("春节前", When("2026-01-16", "2026-02-14")),
    ("春节后", When("2026-02-24", "2026-03-18")),
    ("去年春节", When("2025-01-28", "2025-02-04")),
    ("去年国庆", When("2025-10-01", "2025-10-08")),
    ("元旦", When("2026-01-01", "2026-01-03")),
    ("五一", When("2025-05-01", "2025-05-05")),
    ("中秋节前后", When("2025-09-17", "2025-10-22")),
    ("冬天", When("2025-12-01", "2026-02-28")),
    ("去年夏天", When("2025-06-01", "2025-08-31")),
    ("去年秋天的时候", When("2025-09-01", "2025-11-30")),
    ("今天上午", When("2026-03-18", "2026-03-18")),
    ("大概上个月吧", When("2026-02-01", "2026-02-28")),
    ("好像是去年十月份", When("2025-10-01", "2025-10-31")),
    ("🎤去年冬天吧。", When("2025-12-01", "2026-02-28")),
    ("🎤上个月底的时候。", When("2026-02-21", "2026-02-28")),
    ("二零二五年三月", When("2025-03-01", "2025-03-31")),
    ("2025-11-20", When("2025-11-20", "2025-11-20")),
    ("十二月中旬", When("2025-12-11", "2025-12-20")),
    ("二月下旬", When("2026-02-21", "2026-02-28")),
    ("这个月初", When("2026-03-01", "2026-03-10")),
    ("10天前", When("2026-03-08", "2026-03-08")),
    ("两周前", When("2026-03-01", "2026-03-07")),
    ("去年上半年", When("2025-01-01", "2025-06-30")),
    ("前年冬天", When("2024-12-01", "2025-02-28")),
    ("十月五", When("2025-10-05", "2025-10-05")),
    ("10/5", When("2025-10-05", "2025-10-05")),
    ("去年过年前后", When("2025-01-14", "2025-02-18")),
    ("上上个月", When("2026-01-01", "2026-01-31")),
    ("2026年3月10号左右", When("2026-03-10", "2026-03-10")),
    ("last month", When("2026-02-01", "2026-02-28")),
    ("记不清了", Skip),
    ("不记得了", Skip),
    ("不知道", Skip),
    ("忘了", Skip),
    ("时间太久了记不清", Skip),
    ("🎤这个真想不起来了。", Skip),
    ("明年", Hint("上个月")),
    ("今年夏天", Hint("去年冬天")),
    ("那天下雨", Hint("前几天")),
];

const AMOUNTS: &[(&str, Means)] = &[
    ("两千块", Fen(200_000)),
    ("一万五", Fen(1_500_000)),
    ("1万5", Fen(1_500_000)),
    ("2千", Fen(200_000)),
    ("八百元左右", Fen(80_000)),
    ("三千多", Fen(350_000)),
    ("两三千", Fen(250_000)),
    ("五六百", Fen(55_000)),
    ("12,000元", Fen(1_200_000)),
    ("不知道多少", Skip),
    ("几百块", Fen(50_000)),
    ("5000", Fen(500_000)),
    ("大概三千块钱吧", Fen(300_000)),
    ("一万多", Fen(1_500_000)),
    ("两万多块", Fen(2_500_000)),
    ("1.2万", Fen(1_200_000)),
    ("1.5w", Fen(1_500_000)),
    ("3k", Fen(300_000)),
    ("三百五", Fen(35_000)),
    ("一百零五元", Fen(10_500)),
    ("二十块", Fen(2_000)),
    ("十几块", Fen(1_500)),
    ("几千块钱", Fen(500_000)),
    ("好几万", Fen(5_000_000)),
    ("2000到3000", Fen(250_000)),
    ("2到3千", Fen(250_000)),
    ("两千到三千块", Fen(250_000)),
    ("不到一千", Fen(50_000)),
    ("一千以内", Fen(50_000)),
    ("超过一万", Fen(1_500_000)),
    ("¥3,500", Fen(350_000)),
    ("3500.50元", Fen(350_050)),
    ("🎤大概两千块钱。", Fen(200_000)),
    ("🎤一万五千块左右。", Fen(1_500_000)),
    ("三块五", Fen(350)),
    ("不清楚", Skip),
    ("没算过", Skip),
    ("说不好", Skip),
    ("🎤这个我真不知道。", Skip),
    ("总共花了四千多", Fen(450_000)),
    ("报销了八百多块钱", Fen(85_000)),
    ("差不多一万", Fen(1_000_000)),
    ("一万块左右", Fen(1_000_000)),
    ("七八万", Fen(7_500_000)),
    ("十五六万", Fen(15_500_000)),
    ("一千五六", Fen(155_000)),
    ("两百", Fen(20_000)),
    ("100块钱", Fen(10_000)),
    ("两千五", Fen(250_000)),
    ("3万2", Fen(3_200_000)),
    ("五十万", Fen(50_000_000)),
    ("三千来块", Fen(350_000)),
    ("约2000元", Fen(200_000)),
    ("两千来块钱吧", Fen(250_000)),
    ("一万二", Fen(1_200_000)),
    ("很多钱", Hint("两千块")),
    ("上万", Hint("一万五")),
];

/// What the engine made of `said` at `step`: the value it stored, a skip, or the hint's
/// example. Panics on anything else (a wrong question, a silent step).
fn outcome(step: &str, slot: &str, said: &str) -> Result<(Value, bool), String> {
    let engine = engine();
    let earlier: Vec<(&str, Value)> = match step {
        "target_kind" => vec![("target_name", json!("张某某"))],
        _ => vec![],
    };
    let out = send(&engine, at_step(step, &earlier), said);
    let state = out.state.expect("the report goes on");
    if state.step == step {
        let hint = &out.replies[0];
        assert!(hint.id.contains("hint"), "{said:?}: {:?}", out.replies);
        let example = hint
            .args
            .iter()
            .find(|(k, _)| k == "example")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{said:?}: a hint without an example"));
        return Err(example);
    }
    let unsure = state.slots.get(&format!("{slot}:unsure")) == Some(&json!(true));
    Ok((
        state.slots.get(slot).cloned().unwrap_or(Value::Null),
        unsure,
    ))
}

/// Run one step's corpus; returns (understood, total); misunderstandings are added to
/// `wrong`.
fn run(
    step: &str,
    slot: &str,
    corpus: &[(&str, Means)],
    wrong: &mut Vec<String>,
) -> (usize, usize) {
    let mut understood = 0;
    for &(said, means) in corpus {
        let got = outcome(step, slot, said);
        let ok = match (means, &got) {
            (Cats(c), Ok((v, false))) => *v == json!(c),
            (Unsure, Ok((v, true))) => *v == json!(["other"]),
            (Kind(k), Ok((v, _))) => *v == json!(k),
            (When(a, b), Ok((v, _))) => *v == json!({ "from": a, "to": b }),
            (Fen(f), Ok((v, _))) => *v == json!(f),
            (Skip, Ok((v, _))) => v.is_null(),
            (Hint(example), Err(e)) => {
                if e != example {
                    wrong.push(format!(
                        "{step}: {said:?}: the hint names {e:?}, not {example:?}"
                    ));
                }
                continue;
            }
            _ => false,
        };
        if ok {
            understood += 1;
        } else {
            wrong.push(format!(
                "{step}: {said:?} means {means:?}, the bot made it {got:?}"
            ));
        }
    }
    (understood, corpus.len())
}

#[test]
fn corpus_of_everyday_answers() {
    let mut wrong = vec![];
    let results = [
        (
            "categories",
            run("categories", "categories", CATEGORIES, &mut wrong),
        ),
        (
            "target_kind",
            run("target_kind", "target_kind", KINDS, &mut wrong),
        ),
        ("when", run("when", "when", DATES, &mut wrong)),
        ("amount", run("amount", "amount", AMOUNTS, &mut wrong)),
    ];
    // Never a wrong value: every answer is understood as meant or answered with a hint.
    assert!(wrong.is_empty(), "misunderstood:\n{}", wrong.join("\n"));
    let total: usize = results.iter().map(|(_, (_, n))| n).sum();
    let ok: usize = results.iter().map(|(_, (u, _))| u).sum();
    for (step, (u, n)) in results {
        println!(
            "{step}: {u}/{n} understood ({:.1}%)",
            100.0 * u as f64 / n as f64
        );
        assert!(u * 10 >= n * 9, "{step}: only {u} of {n} understood");
    }
    println!(
        "all: {ok}/{total} ({:.1}%)",
        100.0 * ok as f64 / total as f64
    );
    assert!(total >= 150, "the corpus has {total} answers");
}
