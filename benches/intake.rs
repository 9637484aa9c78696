//! Micro-benchmarks of the per-tip CPU work on the intake path (see docs/BENCHMARKS.md).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use jubao::deadlines::calendar::Calendar;
use jubao::domain::tracking;
use jubao::i18n::Locale;
use jubao::intake::parse::{parse_json, to_new_tip, RawReport};
use jubao::vault::crypto::{keyed_digest, seal, SecretKey};

const REPORT: &str = r#"{"target":{"name":"某某市第一人民医院","kind":"hospital","region_code":"371502"},
"categories":["fake_patient","fake_documents"],
"description":"医院组织村里老人挂名住院，实际没有治疗，用医保卡结算。",
"amount_estimate_fen":1234500,
"reporter":{"anonymous":false,"name":"张三","id_number":"11010519491231002X","phone":"13800138000"}}"#;

fn benches(c: &mut Criterion) {
    let today = "2026-11-23".parse().unwrap();
    c.bench_function("parse and validate a report", |b| {
        b.iter(|| {
            let (raw, loc) =
                parse_json::<RawReport>(black_box(REPORT.as_bytes()), Locale::ZhCn).unwrap();
            to_new_tip(raw, loc, today).unwrap()
        })
    });
    let key = SecretKey::generate();
    let index_key = key.derive("blind-index");
    c.bench_function(
        "seal 3 identity fields + 2 blind indexes + passcode hash",
        |b| {
            b.iter(|| {
                let a = seal(
                    &key,
                    1,
                    b"jubao/identity/v1|r|name",
                    black_box(b"zhang san"),
                );
                let i = seal(
                    &key,
                    1,
                    b"jubao/identity/v1|r|id_number",
                    black_box(b"11010519491231002X"),
                );
                let p = seal(
                    &key,
                    1,
                    b"jubao/identity/v1|r|phone",
                    black_box(b"13800138000"),
                );
                let d1 = keyed_digest(&index_key, &[b"id_number", b"11010519491231002X"]);
                let d2 = keyed_digest(&index_key, &[b"phone", b"13800138000"]);
                let h = keyed_digest(&index_key, &[b"123456789012", b"1234567812345678"]);
                (a, i, p, d1, d2, h)
            })
        },
    );
    c.bench_function("tracking code + passcode", |b| {
        b.iter(|| (tracking::new_code(), tracking::new_passcode()))
    });
    let cal = Calendar::built_in();
    let t = chrono::Utc::now();
    c.bench_function("acceptance deadline (15 working days)", |b| {
        b.iter(|| cal.deadline_after(black_box(t), 15))
    });
}

criterion_group!(intake, benches);
criterion_main!(intake);
