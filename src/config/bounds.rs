//! Every number in the configuration has a range, checked once when the configuration is
//! loaded: a value outside it stops start-up with a message naming the key, so no module
//! has to clamp what it reads.

use anyhow::bail;

use super::Config;

/// `(key, value, least, most)` for every integer key.
fn ranges(c: &Config) -> Vec<(&'static str, i64, i64, i64)> {
    const DAY: i64 = 86_400;
    const MIB: i64 = 1024 * 1024;
    vec![
        ("server.workers", i64::from(c.server.workers), 0, 1024),
        (
            "server.shutdown_timeout_secs",
            i64::from(c.server.shutdown_timeout_secs),
            1,
            3600,
        ),
        (
            "server.header_timeout_secs",
            i64::from(c.server.header_timeout_secs),
            1,
            600,
        ),
        (
            "server.body_timeout_secs",
            i64::from(c.server.body_timeout_secs),
            1,
            3600,
        ),
        (
            "server.body_min_bytes_per_sec",
            i64::from(c.server.body_min_bytes_per_sec),
            1,
            1024 * MIB,
        ),
        (
            "database.max_connections",
            i64::from(c.database.max_connections),
            1,
            1000,
        ),
        (
            "intake.accept_working_days",
            i64::from(c.intake.accept_working_days),
            1,
            1000,
        ),
        (
            "intake.lookup_failures_per_code",
            i64::from(c.intake.lookup_failures_per_code),
            1,
            10_000,
        ),
        (
            "intake.lookup_failures_per_client",
            i64::from(c.intake.lookup_failures_per_client),
            1,
            100_000,
        ),
        (
            "intake.lookup_window_secs",
            i64::from(c.intake.lookup_window_secs),
            1,
            30 * DAY,
        ),
        (
            "intake.max_json_bytes",
            i64::from(c.intake.max_json_bytes),
            1024,
            16 * MIB,
        ),
        (
            "intake.filings_per_client",
            i64::from(c.intake.filings_per_client),
            1,
            1_000_000,
        ),
        (
            "intake.filing_window_minutes",
            i64::from(c.intake.filing_window_minutes),
            1,
            24 * 60,
        ),
        (
            "evidence.max_files",
            i64::from(c.evidence.max_files),
            0,
            100,
        ),
        (
            "evidence.max_file_bytes",
            i64::from(c.evidence.max_file_bytes),
            1,
            1024 * MIB,
        ),
        (
            "evidence.max_image_pixels",
            i64::from(c.evidence.max_image_pixels),
            1,
            1_000_000_000,
        ),
        (
            "evidence.max_concurrent_uploads",
            i64::from(c.evidence.max_concurrent_uploads),
            1,
            100_000,
        ),
        (
            "evidence.upload_bytes_in_flight",
            i64::from(c.evidence.upload_bytes_in_flight),
            largest_form(c) as i64,
            i64::from(u32::MAX),
        ),
        (
            "staff.access_token_minutes",
            i64::from(c.staff.access_token_minutes),
            1,
            24 * 60,
        ),
        (
            "staff.session_hours",
            i64::from(c.staff.session_hours),
            1,
            24 * 30,
        ),
        (
            "staff.max_failed_logins",
            i64::from(c.staff.max_failed_logins),
            1,
            1000,
        ),
        (
            "staff.lockout_minutes",
            i64::from(c.staff.lockout_minutes),
            1,
            30 * 24 * 60,
        ),
        (
            "staff.failed_logins_per_client",
            i64::from(c.staff.failed_logins_per_client),
            1,
            1_000_000,
        ),
        (
            "staff.login_window_minutes",
            i64::from(c.staff.login_window_minutes),
            1,
            24 * 60,
        ),
        (
            "workflow.handle_working_days",
            i64::from(c.workflow.handle_working_days),
            1,
            1000,
        ),
        (
            "workflow.notify_accept_working_days",
            i64::from(c.workflow.notify_accept_working_days),
            1,
            1000,
        ),
        (
            "workflow.defence_working_days",
            i64::from(c.workflow.defence_working_days),
            1,
            1000,
        ),
        (
            "workflow.feedback_working_days",
            i64::from(c.workflow.feedback_working_days),
            1,
            1000,
        ),
        (
            "workflow.remind_before_working_days",
            i64::from(c.workflow.remind_before_working_days),
            0,
            100,
        ),
        (
            "workflow.complex_extension_months",
            i64::from(c.workflow.complex_extension_months),
            0,
            36,
        ),
        (
            "workflow.major_extension_months",
            i64::from(c.workflow.major_extension_months),
            0,
            36,
        ),
        (
            "workflow.collective_threshold_fen",
            c.workflow.collective_threshold_fen,
            0,
            10_000_000,
        ),
        ("outbox.poll_ms", i64::from(c.outbox.poll_ms), 10, 60_000),
        ("outbox.lease_secs", i64::from(c.outbox.lease_secs), 1, DAY),
        (
            "outbox.backoff_base_secs",
            i64::from(c.outbox.backoff_base_secs),
            0,
            DAY,
        ),
        (
            "outbox.backoff_max_secs",
            i64::from(c.outbox.backoff_max_secs),
            1,
            7 * DAY,
        ),
        (
            "outbox.max_attempts",
            i64::from(c.outbox.max_attempts),
            1,
            1000,
        ),
        ("outbox.sweep_secs", i64::from(c.outbox.sweep_secs), 1, DAY),
        (
            "rewards.supervisor_threshold_fen",
            c.rewards.supervisor_threshold_fen,
            0,
            10_000_000,
        ),
        (
            "rewards.quick_notice_working_days",
            i64::from(c.rewards.quick_notice_working_days),
            1,
            1000,
        ),
        (
            "rewards.claim_reminder_days",
            i64::from(c.rewards.claim_reminder_days),
            0,
            3650,
        ),
        (
            "rewards.claim_failures_per_reward",
            i64::from(c.rewards.claim_failures_per_reward),
            1,
            10_000,
        ),
        (
            "retention.key_horizon_days",
            i64::from(c.retention.key_horizon_days),
            1,
            3650,
        ),
        ("retention.batch", i64::from(c.retention.batch), 1, 100_000),
        (
            "identity.approvals_required",
            i64::from(c.identity.approvals_required),
            1,
            5,
        ),
        (
            "identity.approval_hours",
            i64::from(c.identity.approval_hours),
            1,
            30 * 24,
        ),
        (
            "backup.interval_hours",
            i64::from(c.backup.interval_hours),
            1,
            31 * 24,
        ),
        ("backup.keep", i64::from(c.backup.keep), 1, 10_000),
    ]
}

/// The largest form with files a request may send: the JSON part, every file, and room for
/// the parts' headers and boundaries.
pub fn largest_form(c: &Config) -> u64 {
    u64::from(c.intake.max_json_bytes)
        + u64::from(c.evidence.max_files) * u64::from(c.evidence.max_file_bytes)
        + 64 * 1024
}

/// Refuse any integer outside its range, naming the key and the range.
pub fn check(c: &Config) -> anyhow::Result<()> {
    for (key, value, least, most) in ranges(c) {
        if !(least..=most).contains(&value) {
            let (section, name) = key.split_once('.').unwrap_or(("", key));
            bail!(
                "[{section}] {name} = {value} is out of range: it must be from {least} to {most}"
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_in_range() {
        check(&Config::default()).unwrap();
    }

    #[test]
    fn a_value_out_of_range_is_named() {
        let mut c = Config::default();
        c.evidence.max_file_bytes = 0;
        let e = check(&c).unwrap_err().to_string();
        assert!(e.contains("[evidence] max_file_bytes = 0"), "{e}");
        let mut c = Config::default();
        c.outbox.lease_secs = crate::config::Seconds::new(0);
        let e = check(&c).unwrap_err().to_string();
        assert!(e.contains("[outbox] lease_secs = 0"), "{e}");
    }
}
