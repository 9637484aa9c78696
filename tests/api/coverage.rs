//! Every operation has a test that succeeds at it and a test that is refused by it (issue 23):
//! the table below names both for each operation the service routes (the routes read from
//! the source, as `openapi::document_and_router_agree` does, which also holds the document
//! to them). The check fails when an operation is missing from the table, when a named test
//! does not exist, or when the named test (or a helper of its file it calls) never names the
//! operation's path. The permission matrix (`permissions::every_endpoint_as_every_role`) is
//! the refusal test of every operation it lists: each is refused with 403 to every role that
//! may not call it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::openapi::{routed, NOT_OPERATIONS};

const MATRIX: &str = "permissions::every_endpoint_as_every_role";

/// Operation → (a test that gets a 2xx from it, a test that gets a 4xx from it).
const COVERAGE: &[(&str, &str, &str)] = &[
    // Citizens and the front doors.
    (
        "POST /api/v1/reports",
        "reports::files_a_tip_and_returns_a_receipt",
        "reports::bad_input_is_refused_and_stores_nothing",
    ),
    (
        "POST /api/v1/reports/lookup",
        "followup::lookup_shows_timeline_and_messages",
        "followup::wrong_code_and_wrong_passcode_look_the_same",
    ),
    (
        "POST /api/v1/reports/messages",
        "followup::reporter_adds_information_with_a_file",
        "followup::wrong_code_and_wrong_passcode_look_the_same",
    ),
    (
        "POST /api/v1/reports/passcode",
        "protection::passcode_change_and_the_prompt",
        "protection::passcode_change_and_the_prompt",
    ),
    (
        "POST /api/v1/reports/reward/claim",
        "rewards::propose_approve_notify_claim_pay",
        "rewards::propose_approve_notify_claim_pay",
    ),
    (
        "GET /bots/wechat/{account}",
        "bots::bad_input_is_refused_politely",
        "bots::bad_input_is_refused_politely",
    ),
    (
        "POST /bots/wechat/{account}",
        "bots::safe_mode_conversation_files_a_report_with_media",
        "bots::bad_input_is_refused_politely",
    ),
    (
        "GET /bots/wecom/{account}",
        "bots::wecom_url_check_and_conversation",
        "bots::bad_input_is_refused_politely",
    ),
    (
        "POST /bots/wecom/{account}",
        "bots::wecom_url_check_and_conversation",
        "bots::bad_input_is_refused_politely",
    ),
    (
        "POST /bridges/hotline/{source}/tickets",
        "hotline::signed_work_order_files_a_tip",
        "hotline::bad_work_orders_store_nothing",
    ),
    // Signing in.
    (
        "POST /api/v1/auth/login",
        "staff_auth::login_lockout_and_tokens",
        "staff_auth::login_lockout_and_tokens",
    ),
    (
        "POST /api/v1/auth/refresh",
        "staff_auth::refresh_rotation_and_replay",
        "staff_auth::refresh_rotation_and_replay",
    ),
    (
        "POST /api/v1/auth/logout",
        "staff_auth::refresh_rotation_and_replay",
        "staff_auth::refresh_rotation_and_replay",
    ),
    (
        "POST /api/v1/auth/setup",
        "staff_auth::first_admin_setup_code",
        "staff_auth::first_admin_setup_code",
    ),
    (
        "POST /api/v1/auth/totp/setup",
        "staff_auth::totp_is_mandatory_for_sensitive_roles",
        "staff_auth::totp_is_mandatory_for_sensitive_roles",
    ),
    (
        "POST /api/v1/auth/totp/confirm",
        "staff_auth::totp_is_mandatory_for_sensitive_roles",
        "staff_auth::totp_is_mandatory_for_sensitive_roles",
    ),
    (
        "POST /api/v1/auth/password",
        "admin_duties::first_sign_in_sets_ones_own_password",
        MATRIX,
    ),
    (
        "GET /api/v1/me",
        "admin_duties::first_sign_in_sets_ones_own_password",
        MATRIX,
    ),
    (
        "POST /api/v1/me/conflicts",
        "reveal::checked_at_every_step",
        MATRIX,
    ),
    // Cases.
    ("GET /api/v1/cases", "workflow::closed_loop", MATRIX),
    (
        "GET /api/v1/cases/overdue",
        "deadlines::reminders_escalation_and_overdue_board",
        MATRIX,
    ),
    ("GET /api/v1/cases/{id}", "workflow::closed_loop", MATRIX),
    (
        "GET /api/v1/notices/waiting",
        "notices::a_notice_nobody_can_carry_waits_for_the_next_message",
        MATRIX,
    ),
    (
        "GET /api/v1/cases/{id}/related",
        "related::tips_through_channels_are_linked_with_their_reasons",
        "related::other_regions_and_recused_cases_never_appear",
    ),
    (
        "GET /api/v1/targets/independent-reporters",
        "triage::a_supervisor_sees_how_many_reporters_not_who",
        MATRIX,
    ),
    (
        "GET /api/v1/cases/{id}/evidence/{evidence_id}",
        "evidence::case_viewer_gets_a_pdf_without_the_reporters_name",
        MATRIX,
    ),
    (
        "POST /api/v1/cases/{id}/evidence/{evidence_id}/original-requests",
        "evidence::originals_only_through_a_custodian",
        MATRIX,
    ),
    (
        "POST /api/v1/cases/{id}/transitions",
        "workflow::closed_loop",
        MATRIX,
    ),
    (
        "POST /api/v1/cases/{id}/assignment",
        "workflow::closed_loop",
        MATRIX,
    ),
    (
        "POST /api/v1/cases/{id}/findings",
        "workflow::closed_loop",
        MATRIX,
    ),
    (
        "POST /api/v1/cases/{id}/party-notice",
        "workflow::closed_loop",
        MATRIX,
    ),
    (
        "POST /api/v1/cases/{id}/statement",
        "workflow::closed_loop",
        MATRIX,
    ),
    (
        "POST /api/v1/cases/{id}/collective-decisions",
        "workflow::closed_loop",
        MATRIX,
    ),
    (
        "POST /api/v1/cases/{id}/legal-review",
        "workflow::closed_loop",
        MATRIX,
    ),
    (
        "POST /api/v1/cases/{id}/major",
        "workflow::extension_needs_a_supervisor",
        MATRIX,
    ),
    (
        "POST /api/v1/cases/{id}/extensions",
        "workflow::extension_needs_a_supervisor",
        MATRIX,
    ),
    (
        "POST /api/v1/cases/{id}/extensions/{request_id}/decision",
        "workflow::extension_needs_a_supervisor",
        MATRIX,
    ),
    (
        "POST /api/v1/cases/{id}/messages",
        "followup::staff_messages_reach_the_reporters_status_page",
        MATRIX,
    ),
    (
        "POST /api/v1/staff/reports",
        "workflow::staff_intake_records_the_recorder",
        MATRIX,
    ),
    // Identity.
    (
        "POST /api/v1/cases/{id}/identity-requests",
        "reveal::checked_at_every_step",
        MATRIX,
    ),
    (
        "GET /api/v1/identity-requests",
        "workflow::identity_reveal_custodian_model",
        MATRIX,
    ),
    (
        "POST /api/v1/identity-requests/{id}/decision",
        "reveal::checked_at_every_step",
        MATRIX,
    ),
    (
        "POST /api/v1/identity-requests/{id}/reveal",
        "reveal::checked_at_every_step",
        MATRIX,
    ),
    // Rewards and finance.
    (
        "GET /api/v1/cases/{id}/reward",
        "rewards::propose_approve_notify_claim_pay",
        MATRIX,
    ),
    (
        "GET /api/v1/cases/{id}/reward/preview",
        "rewards::propose_approve_notify_claim_pay",
        MATRIX,
    ),
    (
        "POST /api/v1/cases/{id}/reward",
        "rewards::propose_approve_notify_claim_pay",
        MATRIX,
    ),
    (
        "POST /api/v1/cases/{id}/reward/flags",
        "rewards::supervisor_in_person_and_expiry",
        MATRIX,
    ),
    (
        "POST /api/v1/cases/{id}/reward/approve",
        "rewards::propose_approve_notify_claim_pay",
        MATRIX,
    ),
    (
        "POST /api/v1/cases/{id}/reward/return",
        "rewards::propose_approve_notify_claim_pay",
        MATRIX,
    ),
    (
        "POST /api/v1/cases/{id}/reward/notice",
        "rewards::propose_approve_notify_claim_pay",
        MATRIX,
    ),
    (
        "POST /api/v1/cases/{id}/reward/payment",
        "rewards::propose_approve_notify_claim_pay",
        MATRIX,
    ),
    (
        "POST /api/v1/cases/{id}/reward/reversal",
        "rewards::propose_approve_notify_claim_pay",
        MATRIX,
    ),
    (
        "POST /api/v1/cases/{id}/reward/identity-check",
        "protection::in_person_claim_needs_two_finance_officers",
        MATRIX,
    ),
    (
        "GET /api/v1/cases/{id}/reward/bank-account",
        "protection::transfer_claim_needs_the_verifier",
        MATRIX,
    ),
    (
        "GET /api/v1/rewards",
        "rewards::propose_approve_notify_claim_pay",
        MATRIX,
    ),
    (
        "GET /api/v1/finance/budgets",
        "rewards::propose_approve_notify_claim_pay",
        MATRIX,
    ),
    (
        "POST /api/v1/finance/budgets",
        "rewards::propose_approve_notify_claim_pay",
        MATRIX,
    ),
    // Retention and publication (issue 19).
    (
        "GET /api/v1/cases/{id}/retention",
        "retention::purge_after_the_period_honours_the_hold",
        MATRIX,
    ),
    (
        "POST /api/v1/cases/{id}/legal-hold",
        "retention::purge_after_the_period_honours_the_hold",
        "retention::purge_after_the_period_honours_the_hold",
    ),
    (
        "POST /api/v1/cases/{id}/legal-hold/lift",
        "retention::purge_after_the_period_honours_the_hold",
        "retention::purge_after_the_period_honours_the_hold",
    ),
    (
        "GET /api/v1/public/stats",
        "retention::public_figures_withhold_small_counts",
        "retention::public_figures_withhold_small_counts",
    ),
    (
        "POST /api/v1/cases/{id}/typical-cases",
        "typical::draft_review_publish_withdraw",
        "typical::draft_review_publish_withdraw",
    ),
    (
        "GET /api/v1/typical-cases",
        "typical::draft_review_publish_withdraw",
        MATRIX,
    ),
    (
        "POST /api/v1/typical-cases/{id}/legal-review",
        "typical::draft_review_publish_withdraw",
        "typical::draft_review_publish_withdraw",
    ),
    (
        "POST /api/v1/typical-cases/{id}/approve",
        "typical::draft_review_publish_withdraw",
        "typical::draft_review_publish_withdraw",
    ),
    (
        "POST /api/v1/typical-cases/{id}/withdraw",
        "typical::draft_review_publish_withdraw",
        "typical::draft_review_publish_withdraw",
    ),
    (
        "GET /api/v1/public/typical-cases",
        "typical::draft_review_publish_withdraw",
        "typical::draft_review_publish_withdraw",
    ),
    // Statistics.
    (
        "GET /api/v1/stats/overview",
        "console::stats_follow_region_and_role",
        MATRIX,
    ),
    (
        "GET /api/v1/stats/tips",
        "console::stats_count_by_the_beijing_month",
        MATRIX,
    ),
    (
        "GET /api/v1/stats/cases",
        "console::stats_count_by_the_beijing_month",
        MATRIX,
    ),
    (
        "GET /api/v1/stats/deadlines",
        "rewards::propose_approve_notify_claim_pay",
        MATRIX,
    ),
    (
        "GET /api/v1/stats/rewards",
        "rewards::propose_approve_notify_claim_pay",
        MATRIX,
    ),
    // Audit.
    (
        "GET /api/v1/audit",
        "scoping::auditors_see_their_region_and_not_their_conflicts",
        MATRIX,
    ),
    (
        "GET /api/v1/audit/verify",
        "workflow::audit_verify_catches_an_edited_row",
        MATRIX,
    ),
    // Administration.
    (
        "GET /api/v1/admin/users",
        "admin_duties::sensitive_roles_wait_for_a_second_admin",
        MATRIX,
    ),
    (
        "POST /api/v1/admin/users",
        "admin_duties::first_sign_in_sets_ones_own_password",
        MATRIX,
    ),
    (
        "POST /api/v1/admin/users/{id}/conflicts",
        "admin_duties::an_admin_records_a_conflict_for_a_handler",
        MATRIX,
    ),
    (
        "POST /api/v1/admin/users/{id}/roles",
        "admin_duties::sensitive_roles_wait_for_a_second_admin",
        MATRIX,
    ),
    (
        "GET /api/v1/admin/role-grants",
        "admin_duties::sensitive_roles_wait_for_a_second_admin",
        MATRIX,
    ),
    (
        "POST /api/v1/admin/role-grants/{id}/decision",
        "admin_duties::sensitive_roles_wait_for_a_second_admin",
        MATRIX,
    ),
    (
        "POST /api/v1/admin/users/{id}/totp-reset",
        "admin_duties::totp_reset_takes_two_admins",
        MATRIX,
    ),
    (
        "GET /api/v1/admin/totp-resets",
        "admin_duties::totp_reset_takes_two_admins",
        MATRIX,
    ),
    (
        "POST /api/v1/admin/totp-resets/{id}/decision",
        "admin_duties::totp_reset_takes_two_admins",
        MATRIX,
    ),
    (
        "GET /api/v1/admin/dead-letters",
        "deadlines::dead_letters_are_kept_and_retried",
        MATRIX,
    ),
    (
        "POST /api/v1/admin/dead-letters/{id}/retry",
        "deadlines::dead_letters_are_kept_and_retried",
        MATRIX,
    ),
    (
        "GET /api/v1/admin/config",
        "console::admin_config_masks_every_secret",
        MATRIX,
    ),
];

/// The functions of a test file: name → text, from `fn name(` to the next item. Items are
/// the functions at the top level and the methods of `impl` blocks (a function declared
/// inside a test belongs to that test).
fn functions(text: &str) -> BTreeMap<String, String> {
    let mut starts = vec![];
    let (mut at, mut depth, mut in_impl) = (0usize, 0i64, false);
    for line in text.lines() {
        let l = line.trim_start();
        if depth == 0 {
            in_impl = l.starts_with("impl");
        }
        if depth == 0 || (depth == 1 && in_impl) {
            let l = l
                .trim_start_matches("pub ")
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("async ");
            if let Some(rest) = l.strip_prefix("fn ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                starts.push((at, name));
            }
        }
        depth += line.matches('{').count() as i64 - line.matches('}').count() as i64;
        at += line.len() + 1;
    }
    let mut out = BTreeMap::new();
    for (k, (at, name)) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map(|s| s.0).unwrap_or(text.len());
        out.insert(name.clone(), text[*at..end.min(text.len())].to_string());
    }
    out
}

/// What a test that calls an operation must write: the last literal segment of its path,
/// and, when a parameter comes just before it, the segment before the parameter too
/// (`/users/` and `/conflicts` for `/admin/users/{id}/conflicts`), each found in one text.
fn needles(op: &str) -> Vec<String> {
    let path = op.split_once(' ').map(|p| p.1).unwrap_or(op);
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let Some(last) = segs.iter().rposition(|s| !s.starts_with('{')) else {
        return vec![];
    };
    let mut out = vec![format!("/{}", segs[last])];
    if last >= 2 && segs[last - 1].starts_with('{') && !segs[last - 2].starts_with('{') {
        out.push(format!("/{}/", segs[last - 2]));
    }
    out
}

/// Whether `body` calls a function or method named `n` (`n(` not inside a longer name).
fn calls(body: &str, n: &str) -> bool {
    let pat = format!("{n}(");
    body.match_indices(&pat).any(|(i, _)| {
        let before = body[..i].chars().next_back();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// Whether test `name` (`file::function`) exists and names `op`'s path, in its own text or
/// in a function of its file (or of the shared kits) that it calls.
fn names_the_operation(root: &Path, name: &str, op: &str) -> Result<(), String> {
    let (file, func) = name
        .split_once("::")
        .ok_or_else(|| format!("{name}: not file::function"))?;
    let text = std::fs::read_to_string(root.join(format!("{file}.rs")))
        .map_err(|_| format!("{name}: no tests/api/{file}.rs"))?;
    let mut fns = functions(&text);
    let own = fns
        .get(func)
        .cloned()
        .ok_or_else(|| format!("{name}: no fn {func} in tests/api/{file}.rs"))?;
    if !text.contains("both_databases!") {
        return Err(format!("{name}: not run"));
    }
    for kit in ["staffkit", "helpers"] {
        let t = std::fs::read_to_string(root.join(format!("{kit}.rs"))).unwrap();
        for (k, v) in functions(&t) {
            fns.entry(k).or_insert(v);
        }
    }
    let needles = needles(op);
    let names = |t: &str| needles.iter().all(|n| t.contains(n.as_str()));
    // The test's own text, then the helpers it calls, then the helpers those call.
    let mut seen: BTreeSet<&str> = BTreeSet::from([func]);
    let mut frontier = vec![own];
    for _ in 0..3 {
        if frontier.iter().any(|t| names(t)) {
            return Ok(());
        }
        let mut next = vec![];
        for body in &frontier {
            for (n, t) in &fns {
                let call = calls(body, n);
                if call && seen.insert(n.as_str()) {
                    next.push(t.clone());
                }
            }
        }
        frontier = next;
    }
    Err(format!("{name} never names {needles:?} ({op})"))
}

#[test]
fn every_operation_has_a_success_and_a_refusal_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api");
    let ops: BTreeSet<String> = routed()
        .into_iter()
        .filter(|r| !NOT_OPERATIONS.contains(&r.as_str()))
        .collect();
    assert!(ops.len() > 60, "the routes were not read: {ops:?}");
    let mut listed = BTreeSet::new();
    let mut wrong = vec![];
    for (op, success, refusal) in COVERAGE {
        if !listed.insert(op.to_string()) {
            wrong.push(format!("{op} is listed twice"));
        }
        if !ops.contains(*op) {
            wrong.push(format!("{op} is not routed"));
        }
        for t in [success, refusal] {
            if let Err(e) = names_the_operation(&root, t, op) {
                wrong.push(e);
            }
        }
    }
    for op in ops.difference(&listed) {
        wrong.push(format!(
            "{op} has no success and refusal test in tests/api/coverage.rs"
        ));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_test_that_never_calls_the_operation_does_not_count() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api");
    assert!(names_the_operation(
        &root,
        "workflow::closed_loop",
        "POST /api/v1/cases/{id}/transitions"
    )
    .is_ok());
    assert!(names_the_operation(&root, "health::no_such_test", "GET /api/v1/cases").is_err());
    assert!(names_the_operation(
        &root,
        "workflow::closed_loop",
        "POST /api/v1/admin/users/{id}/totp-reset"
    )
    .is_err());
    assert!(
        names_the_operation(
            &root,
            "workflow::recusal_and_regions",
            "POST /api/v1/admin/users/{id}/conflicts"
        )
        .is_err(),
        "it declares its own conflict, at /me/conflicts"
    );
    assert_eq!(needles("GET /api/v1/cases/{id}"), ["/cases"]);
    assert_eq!(
        needles("POST /api/v1/cases/{id}/reward/approve"),
        ["/approve"]
    );
    assert_eq!(
        needles("POST /api/v1/admin/users/{id}/conflicts"),
        ["/conflicts", "/users/"]
    );
}
