//! Deadlines that stay right across years: every count checked against an independent
//! calendar; provisional due dates through a year with no holiday notice; adding the year's
//! file to a running service recomputes them (audited, the reporter told, the assignee told
//! of an earlier date); the law's rules for month and day periods; clocks that start when
//! the tip arrived.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde_json::{json, Value};

use crate::both_databases;
use crate::helpers::*;
use crate::oracle;
use crate::staffkit::*;
use jubao::deadlines::calendar::{shanghai_date, Calendar};
use jubao::deadlines::period::Period;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn today() -> NaiveDate {
    shanghai_date(chrono::Utc::now())
}

/// Every start day of 2024–2026 and every count of 0–60 working days, and the 3- and
/// 6-month and 60- and 90-day periods from each, against the independent calendar; a due
/// date that reaches a year the oracle has no notice for is provisional.
#[test]
fn working_days_and_periods_agree_with_an_independent_calendar() {
    let Some(o) = oracle::load("calendar check", d("2024-01-01"), d("2027-12-31")) else {
        return;
    };
    let cal = Calendar::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/holidays"
    )))
    .unwrap();
    let mut start = d("2024-01-01");
    let mut checked = 0;
    while start <= d("2026-12-31") {
        for n in 0..=60 {
            let due = Period::WorkingDays(n).due(&cal, start);
            assert_eq!(
                due.on,
                o.add_working_days(start, n),
                "{start} + {n} working days"
            );
            assert_eq!(
                due.provisional,
                !o.known_through(start, due.on),
                "{start} + {n}"
            );
            checked += 1;
        }
        for (p, want) in [
            (Period::Months(3), o.add_months(start, 3)),
            (Period::Months(6), o.add_months(start, 6)),
            (Period::Days(60), o.on_or_after(start + Duration::days(60))),
            (Period::Days(90), o.on_or_after(start + Duration::days(90))),
        ] {
            let due = p.due(&cal, start);
            assert_eq!(due.on, want, "{start} + {p:?}");
            assert_eq!(
                due.provisional,
                !o.known_through(start, due.on),
                "{start} + {p:?}"
            );
        }
        start += Duration::days(1);
    }
    assert_eq!(checked, 1096 * 61);
}

/// The first year from this one that the shipped calendar does not cover.
fn missing_year() -> i32 {
    let built: Vec<i32> = Calendar::built_in().years().collect();
    (today().year()..).find(|y| !built.contains(y)).unwrap()
}

/// A synthetic notice for `year`: New Year's Day and a February week off, and every
/// Saturday of January a make-up working day (so dates in January come earlier and dates
/// after February later).
fn synthetic_notice(year: i32) -> (String, Vec<NaiveDate>, Vec<NaiveDate>) {
    let jan1 = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
    let off: Vec<NaiveDate> = std::iter::once(jan1)
        .chain((8..=12).map(|day| NaiveDate::from_ymd_opt(year, 2, day).unwrap()))
        .collect();
    let work: Vec<NaiveDate> = (2..=31)
        .map(|day| NaiveDate::from_ymd_opt(year, 1, day).unwrap())
        .filter(|x| x.weekday() == Weekday::Sat && !off.contains(x))
        .collect();
    let list = |v: &[NaiveDate]| {
        v.iter()
            .map(|x| format!("\"{x}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let text = format!(
        "# test notice\nyear = {year}\nsource = \"test\"\noff = [{}]\nwork = [{}]\n",
        list(&off),
        list(&work)
    );
    (text, off, work)
}

async fn clock_of(app: &TestApp, case: &str, kind: &str) -> Value {
    let cases = sqlx::query_as::<_, (String, i64, String)>(
        "SELECT due_on, provisional, start_on FROM clocks WHERE report_id = $1 AND kind = $2 \
         AND closed_at IS NULL",
    )
    .bind(case)
    .bind(kind)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    json!({ "due_on": cases.0, "provisional": cases.1 != 0, "start_on": cases.2 })
}

async fn adding_a_year_recomputes_provisional_deadlines(backend: Backend) {
    let year = missing_year();
    let now = today();
    let Some(mut o) = oracle::load(
        "calendar reload test",
        now - Duration::days(10),
        d(&format!("{year}-12-31")),
    ) else {
        return;
    };
    // A region whose rule reaches into the missing year: acceptance due after its February
    // week, handling due in its January (DOMAIN §4 numbers are regional policy data).
    let accept_target = NaiveDate::from_ymd_opt(year, 3, 1).unwrap();
    let handle_target = NaiveDate::from_ymd_opt(year, 1, 27).unwrap();
    let accept_days = o.working_days_between(now, accept_target).max(1);
    let handle_days = o.working_days_between(now, handle_target).max(1);
    let holidays = tempfile::tempdir().unwrap();
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(
        rules.path().join("test-440000.toml"),
        format!(
            "id = \"test-gd\"\nversion = 1\nregion = \"440000\"\neffective_from = 2018-01-01\n\
             accept_working_days = {accept_days}\nnotify_working_days = 5\n\
             handle_working_days = {handle_days}\ndefence_working_days = 5\n\
             feedback_working_days = 5\ncomplex_extension_months = 3\nmajor_extension_months = 6\n"
        ),
    )
    .unwrap();
    let (hdir, rdir) = (holidays.path().to_path_buf(), rules.path().to_path_buf());
    let Some(app) = spawn_app_with(backend, |c| {
        c.calendar.holidays_dir = hdir.display().to_string();
        c.workflow.rules_dir = rdir.display().to_string();
    })
    .await
    else {
        return;
    };
    let intake = staff(&app, "intake1", "intake", "440100").await;
    let _h = staff_with_email(
        &app,
        "handler1",
        "handler",
        "440105",
        Some("handler1@jubao.test"),
    )
    .await;
    let auditor = staff(&app, "aud1", "auditor", "440100").await;
    let mut tip = named_report("王五", &resident_id("44010519800101123"), "13900139000");
    tip["target"]["region_code"] = json!("440105");

    // Case A waits for acceptance; case B is accepted (handling clock, assigned).
    let receipt = app.file_tip(&tip).await;
    assert_eq!(receipt["accept_by_provisional"], true, "{receipt}");
    let code = receipt["tracking_code"].as_str().unwrap().to_string();
    let pass = receipt["passcode"].as_str().unwrap().to_string();
    let a = case_id_of(&app, &code).await;
    tip["description"] = json!("另一家药店串换药品，用医保卡结算日用品，金额较大。");
    let b = file_case(&app, &tip).await;
    post_ok(
        &app,
        &intake,
        &format!("/api/v1/cases/{b}/transitions"),
        &json!({"to": "accepted", "reason": "受理"}),
        200,
    )
    .await;

    let before_a = clock_of(&app, &a, "accept").await;
    let before_b = clock_of(&app, &b, "handle").await;
    assert_eq!(before_a["provisional"], true);
    assert_eq!(before_b["provisional"], true);
    assert_eq!(
        before_a["due_on"],
        o.add_working_days(now, accept_days).to_string()
    );
    assert_eq!(
        before_b["due_on"],
        o.add_working_days(now, handle_days).to_string()
    );
    // The staff API and the reporter say so.
    let detail: Value = get(&app, &intake.token, &format!("/api/v1/cases/{a}"))
        .await
        .json()
        .await
        .unwrap();
    let shown = detail["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "accept")
        .unwrap();
    assert_eq!(shown["provisional"], true);
    assert_eq!(shown["rule"], "test-gd@1");
    let inbox: Value = get(&app, &intake.token, "/api/v1/cases?assigned=any")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        inbox
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == a.as_str() && c["provisional"] == true),
        "{inbox}"
    );
    let view: Value = app.lookup(&code, &pass).await.json().await.unwrap();
    assert_eq!(view["accept_by_provisional"], true);
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("jubao_calendar_provisional_open_clocks 2"),
        "{metrics}"
    );
    assert!(!metrics.contains(&format!("year=\"{year}\"")));

    // The year's notice is published: a file in holidays_dir, then `jubao calendar reload`.
    let (text, off, work) = synthetic_notice(year);
    std::fs::write(holidays.path().join(format!("cn-{year}.toml")), text).unwrap();
    o.with_year(year, &off, &work);
    let done = jubao::workflow::recalendar::reload(&app.config)
        .await
        .unwrap();
    assert_eq!((done.examined, done.settled), (2, 2), "{done:?}");

    let after_a = clock_of(&app, &a, "accept").await;
    let after_b = clock_of(&app, &b, "handle").await;
    let want_a = o.add_working_days(now, accept_days);
    let want_b = o.add_working_days(now, handle_days);
    assert_eq!(
        after_a,
        json!({"due_on": want_a.to_string(), "provisional": false, "start_on": now.to_string()})
    );
    assert_eq!(after_b["due_on"], want_b.to_string());
    assert_eq!(after_b["provisional"], false);
    assert!(
        *want_a.to_string() > *before_a["due_on"].as_str().unwrap(),
        "after the February week: later"
    );
    assert!(
        *want_b.to_string() < *before_b["due_on"].as_str().unwrap(),
        "January make-up days: earlier"
    );

    // Audited, old → new.
    let audit: Value = get(
        &app,
        &auditor.token,
        "/api/v1/audit?action=deadline.recompute",
    )
    .await
    .json()
    .await
    .unwrap();
    let entries = audit.as_array().unwrap().clone();
    let moved: Vec<(String, String)> = entries
        .iter()
        .map(|e| {
            (
                e["detail"]["from"].as_str().unwrap().to_string(),
                e["detail"]["to"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        moved.contains(&(
            before_a["due_on"].as_str().unwrap().into(),
            want_a.to_string()
        )),
        "{audit}"
    );
    assert!(
        moved.contains(&(
            before_b["due_on"].as_str().unwrap().into(),
            want_b.to_string()
        )),
        "{audit}"
    );
    // The reporter's timeline says the acceptance date moved; the assignee is told of the
    // earlier date.
    let view: Value = app.lookup(&code, &pass).await.json().await.unwrap();
    assert_eq!(view["accept_by"], want_a.to_string());
    assert_eq!(view["accept_by_provisional"], false);
    let notes: Vec<&str> = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["note"].as_str())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("受理期限") && n.contains(&want_a.to_string())),
        "{notes:?}"
    );
    let told: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE dedupe_key LIKE $1")
        .bind(format!("recalendar:{b}:handle:%"))
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(told, 1, "the assignee is told of the earlier date");

    // The running service switched too: new tips count with the year, not provisionally.
    for _ in 0..50 {
        if app
            .state
            .workflow
            .calendar
            .current()
            .years()
            .any(|y| y == year)
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tip["description"] = json!("第三家机构虚构诊疗项目，骗取医保基金，请核查。");
    let fresh = app.file_tip(&tip).await;
    assert_eq!(fresh["accept_by_provisional"], false);
    assert_eq!(
        fresh["accept_by"],
        o.add_working_days(today(), accept_days).to_string()
    );
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("jubao_calendar_provisional_open_clocks 0"),
        "{metrics}"
    );
    assert!(metrics.contains(&format!("jubao_calendar_year_loaded{{year=\"{year}\"}} 1")));
    // A second reload finds nothing left to do, and the status lists the year.
    let again = jubao::workflow::recalendar::reload(&app.config)
        .await
        .unwrap();
    assert_eq!(again.examined, 0);
    let status = jubao::workflow::recalendar::status(&app.config)
        .await
        .unwrap();
    let line = status.iter().find(|s| s.year == year).unwrap();
    assert_eq!(
        line.origin.as_deref(),
        Some(format!("file cn-{year}.toml").as_str())
    );
    assert_eq!(line.provisional, 0);
    app.stop().await;
}

/// A bad file at reload names the file and line, and the calendar in force stays.
async fn a_bad_holiday_file_changes_nothing(backend: Backend) {
    let holidays = tempfile::tempdir().unwrap();
    let hdir = holidays.path().to_path_buf();
    let Some(app) = spawn_app_with(backend, |c| {
        c.calendar.holidays_dir = hdir.display().to_string()
    })
    .await
    else {
        return;
    };
    let year = missing_year();
    let weekday = (1..=7)
        .map(|day| NaiveDate::from_ymd_opt(year, 1, day).unwrap())
        .find(|x| !matches!(x.weekday(), Weekday::Sat | Weekday::Sun))
        .unwrap();
    for (text, line) in [
        (
            format!("year = {year}\noff = [\"{year}-01-01\", \"{year}-01-01\"]\nwork = []\n"),
            2,
        ),
        (
            format!("year = {year}\noff = []\nwork = [\"{weekday}\"]\n"),
            3,
        ),
        (
            format!("year = {year}\noff = [\n  \"{year}-02-30\",\n]\nwork = []\n"),
            3,
        ),
        (
            format!("year = {year}\noff = []\nwork = []\nholidays = 3\n"),
            4,
        ),
    ] {
        let file = holidays.path().join(format!("cn-{year}.toml"));
        std::fs::write(&file, &text).unwrap();
        let e = jubao::workflow::recalendar::reload(&app.config)
            .await
            .unwrap_err()
            .to_string();
        let named = format!("{}:{line}:", file.display());
        assert!(e.starts_with(&named), "{e} (wanted {named})");
    }
    let status = jubao::workflow::recalendar::status(&app.config)
        .await
        .unwrap();
    assert!(
        status.iter().all(|s| s.year != year || s.origin.is_none()),
        "{status:?}"
    );
    assert!(!app
        .state
        .workflow
        .calendar
        .current()
        .years()
        .any(|y| y == year));
    app.stop().await;
}

/// Staff entry (CONTRACT §8): the clocks of a letter start from the day it reached the
/// bureau; bad `received_on` values are refused and write nothing.
async fn received_on_starts_the_clock(app: TestApp) {
    let now = today();
    let Some(o) = oracle::load(
        "received_on test",
        d("2018-01-01"),
        now + Duration::days(120),
    ) else {
        return;
    };
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let letter = |received_on: Value| {
        let mut b = anonymous_report();
        b["medium"] = json!("letter");
        if !received_on.is_null() {
            b["received_on"] = received_on;
        }
        b
    };
    let reports = app.count("reports").await;
    for (value, code) in [
        (Value::Null, "missing_field"),
        (
            json!((now + Duration::days(1)).to_string()),
            "invalid_field",
        ),
        (json!("2017-12-31"), "invalid_field"),
        (json!("2026-13-01"), "invalid_field"),
        (json!("20261101"), "invalid_field"),
        (json!(20261101), "invalid_field"),
    ] {
        let res = post(
            &app,
            &intake.token,
            "/api/v1/staff/reports",
            &letter(value.clone()),
        )
        .await;
        assert_eq!(res.status(), 422, "{value}");
        let e: Value = res.json().await.unwrap();
        assert_eq!(e["error"]["field"], "received_on", "{value}: {e}");
        assert_eq!(e["error"]["code"], code, "{value}: {e}");
        assert!(!e["error"]["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(app.count("reports").await, reports, "nothing written");
    // The citizen form has no such field.
    let mut h5 = anonymous_report();
    h5["received_on"] = json!(now.to_string());
    assert_eq!(app.post_report(&h5).await.status(), 422);

    let arrived = now - Duration::days(9);
    let r = post_ok(
        &app,
        &intake,
        "/api/v1/staff/reports",
        &letter(json!(arrived.to_string())),
        201,
    )
    .await;
    assert_eq!(r["received_on"], arrived.to_string());
    assert_eq!(r["accept_by"], o.add_working_days(arrived, 15).to_string());
    let case = r["case_id"].as_str().unwrap();
    let c = clock_of(&app, case, "accept").await;
    assert_eq!(c["start_on"], arrived.to_string());
    let detail: Value = get(&app, &intake.token, &format!("/api/v1/cases/{case}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["received_on"], arrived.to_string());
    assert_eq!(detail["recorded_by"], "intake1");
    let recorded = jubao::store::parse_ts(detail["received_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        shanghai_date(recorded),
        now,
        "recorded today, received nine days ago"
    );
    // A visit without the field starts today.
    let mut visit = anonymous_report();
    visit["medium"] = json!("visit");
    let r = post_ok(&app, &intake, "/api/v1/staff/reports", &visit, 201).await;
    assert_eq!(r["received_on"], now.to_string());
    assert_eq!(r["accept_by"], o.add_working_days(now, 15).to_string());
    app.stop().await;
}

/// A complex (3-month) extension approved after a major (6-month) one never shortens the
/// deadline; both end on a working day (Civil Code art. 203).
async fn extensions_never_shorten_and_end_on_a_working_day(app: TestApp) {
    let now = today();
    let Some(o) = oracle::load(
        "extension order test",
        now - Duration::days(1),
        now + Duration::days(220),
    ) else {
        return;
    };
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let h = staff(&app, "handler1", "handler", "371502").await;
    let sup = staff(&app, "sup1", "supervisor", "371500").await;
    let case = file_case(&app, &anonymous_report()).await;
    let path = |p: &str| format!("/api/v1/cases/{case}{p}");
    post_ok(
        &app,
        &intake,
        &path("/transitions"),
        &json!({"to": "accepted", "reason": "受理"}),
        200,
    )
    .await;
    post_ok(
        &app,
        &sup,
        &path("/major"),
        &json!({"reason": "涉案金额大"}),
        200,
    )
    .await;
    post_ok(&app, &sup, &path("/collective-decisions"), &json!({"meeting_date": now.to_string(), "participants": ["甲", "乙", "丙"], "conclusion": "延长至六个月"}), 200).await;
    let extend = |kind: &'static str| {
        let (app, h, sup, path) = (&app, &h, &sup, &path);
        async move {
            let req = post_ok(
                app,
                h,
                &path("/extensions"),
                &json!({"kind": kind, "reason": "需延期"}),
                200,
            )
            .await;
            let rid = req["request_id"].as_str().unwrap().to_string();
            post_ok(
                app,
                sup,
                &path(&format!("/extensions/{rid}/decision")),
                &json!({"approve": true, "reason": "同意"}),
                200,
            )
            .await
        }
    };
    let major = extend("major").await;
    assert_eq!(major["due_on"], o.add_months(now, 6).to_string());
    let complex = extend("complex").await;
    assert_eq!(
        complex["due_on"],
        o.add_months(now, 6).to_string(),
        "never shortened"
    );
    let detail: Value = get(&app, &sup.token, &path("")).await.json().await.unwrap();
    let handle = detail["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "handle")
        .unwrap();
    assert_eq!(handle["due_on"], o.add_months(now, 6).to_string());
    assert_eq!(handle["extension"], "major");
    app.stop().await;
}

/// The citizen's receipt and status page, the staff answer, the operator's warning and
/// the metrics say when a date is provisional (the national rule here is 400 working days,
/// so every acceptance date runs into a year with no notice).
async fn provisional_dates_are_said_everywhere(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| c.intake.accept_working_days = 400).await else {
        return;
    };
    let r = app.file_tip(&anonymous_report()).await;
    assert_eq!(r["accept_by_provisional"], true);
    let view: Value = app
        .lookup(
            r["tracking_code"].as_str().unwrap(),
            r["passcode"].as_str().unwrap(),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["accept_by"], r["accept_by"]);
    assert_eq!(view["accept_by_provisional"], true);
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let mut visit = anonymous_report();
    visit["medium"] = json!("visit");
    let s = post_ok(&app, &intake, "/api/v1/staff/reports", &visit, 201).await;
    assert_eq!(s["accept_by_provisional"], true);
    let warnings = jubao::workflow::recalendar::warnings(&app.state.workflow)
        .await
        .unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("2 open deadlines are provisional")),
        "{warnings:?}"
    );
    // The overdue board carries the flag too (a clock moved into the past by hand).
    sqlx::query("UPDATE clocks SET due_on = '2020-01-02' WHERE kind = 'accept'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let board: Value = get(&app, &intake.token, "/api/v1/cases/overdue")
        .await
        .json()
        .await
        .unwrap();
    let items = board.as_array().unwrap();
    assert_eq!(items.len(), 2, "{board}");
    assert!(items.iter().all(|i| i["provisional"] == true), "{board}");
    app.stop().await;
}

both_databases!(
    backend: provisional_dates_are_said_everywhere,
    adding_a_year_recomputes_provisional_deadlines,
    a_bad_holiday_file_changes_nothing,
);
/// Clocks written before periods were stored get theirs at start (read back under the
/// calendar they were counted with); the daily check runs on one instance a day.
async fn old_clocks_are_filled_in_and_the_daily_check_runs_once(app: TestApp) {
    let r = app.file_tip(&anonymous_report()).await;
    let case = case_id_of(&app, r["tracking_code"].as_str().unwrap()).await;
    sqlx::query(
        "UPDATE clocks SET start_on = NULL, period_len = 0, rule = NULL WHERE report_id = $1",
    )
    .bind(&case)
    .execute(&app.db.pool)
    .await
    .unwrap();
    let cal = app.state.workflow.calendar.current();
    assert_eq!(
        jubao::deadlines::published::backfill(&app.db, &cal)
            .await
            .unwrap(),
        1
    );
    let (start_on, unit, len, rule): (String, String, i64, String) = sqlx::query_as(
        "SELECT start_on, period_unit, period_len, rule FROM clocks WHERE report_id = $1",
    )
    .bind(&case)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(
        (start_on.as_str(), unit.as_str(), len, rule.as_str()),
        (
            today().to_string().as_str(),
            "working_days",
            15,
            "national@1"
        )
    );
    assert_eq!(
        jubao::deadlines::published::backfill(&app.db, &cal)
            .await
            .unwrap(),
        0,
        "once"
    );

    use jubao::notify::worker::Periodic;
    let check = jubao::workflow::recalendar::CalendarCheck(app.state.workflow.clone());
    sqlx::query("UPDATE calendar_state SET warned_on = NULL")
        .execute(&app.db.pool)
        .await
        .unwrap();
    check.tick().await.unwrap();
    let warned: Option<String> = sqlx::query_scalar("SELECT warned_on FROM calendar_state")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(warned, Some(today().to_string()));
    // A second instance's tick the same day finds it done (and a second tick changes nothing).
    check.tick().await.unwrap();
    app.stop().await;
}

/// A real-name reporter is told of a transfer or a merge within the notify period, as of
/// an acceptance (Handling-2022); an anonymous one has no such clock.
async fn transfer_and_merge_open_the_notify_clock(app: TestApp) {
    let intake = staff(&app, "intake1", "intake", "371500").await;
    let sup = staff(&app, "sup1", "supervisor", "371500").await;
    let named = named_report("赵六", &resident_id("37150219800101123"), "13900139000");
    let first = file_case(&app, &anonymous_report()).await;
    let mut body = named.clone();
    body["description"] = json!("该诊所虚构诊疗项目，医保结算金额较大，请核查处理。");
    let transferred = file_case(&app, &body).await;
    body["description"] = json!("同一诊所再次虚构诊疗项目，医保结算，请一并核查。");
    let merged = file_case(&app, &body).await;
    let anon = file_case(&app, &{
        let mut b = anonymous_report();
        b["description"] = json!("匿名反映：另一家药店串换药品，用医保卡结算日用品。");
        b
    })
    .await;
    let path = |case: &str| format!("/api/v1/cases/{case}/transitions");
    let to_police = json!({"to": "transferred", "reason": "涉嫌犯罪", "destination": "police"});
    post_ok(&app, &sup, &path(&transferred), &to_police, 200).await;
    let merge = json!({"to": "merged", "reason": "同一事项", "merge_into": first});
    post_ok(&app, &intake, &path(&merged), &merge, 200).await;
    post_ok(&app, &sup, &path(&anon), &to_police, 200).await;
    for (case, want) in [(&transferred, 1), (&merged, 1), (&anon, 0)] {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM clocks WHERE report_id = $1 AND kind = 'notify_accept' AND closed_at IS NULL",
        )
        .bind(case)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        assert_eq!(n, want, "{case}");
    }
    app.stop().await;
}

both_databases!(
    transfer_and_merge_open_the_notify_clock,
    old_clocks_are_filled_in_and_the_daily_check_runs_once,
    received_on_starts_the_clock,
    extensions_never_shorten_and_end_on_a_working_day,
);
