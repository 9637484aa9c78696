//! The defaults of each section: what a key is when the file and the environment leave it
//! out (the same values as the shipped `config/jubao.toml`).

use super::*;

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            approvals_required: 1,
            approval_hours: Hours::new(24),
        }
    }
}

impl Default for RewardsConfig {
    fn default() -> Self {
        Self {
            policies_dir: String::new(),
            supervisor_threshold_fen: 1_000_000,
            quick_notice_working_days: 2,
            claim_reminder_days: 7,
            claim_failures_per_reward: 5,
        }
    }
}

impl Default for StaffConfig {
    fn default() -> Self {
        Self {
            access_token_minutes: Minutes::new(15),
            session_hours: Hours::new(12),
            max_failed_logins: 5,
            lockout_minutes: Minutes::new(15),
            failed_logins_per_client: 30,
            login_window_minutes: Minutes::new(15),
        }
    }
}

impl Default for WorkflowConfig {
    fn default() -> Self {
        Self {
            default_region: "000000".into(),
            handle_working_days: 30,
            notify_accept_working_days: 5,
            defence_working_days: 5,
            feedback_working_days: 5,
            remind_before_working_days: 3,
            complex_extension_months: 3,
            major_extension_months: 6,
            collective_threshold_fen: 5_000_000,
            rules_dir: "config/deadlines".into(),
        }
    }
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            poll_ms: Millis::new(500),
            lease_secs: Seconds::new(60),
            backoff_base_secs: Seconds::new(10),
            backoff_max_secs: Seconds::new(3600),
            max_attempts: 8,
            sweep_secs: Seconds::new(60),
            enabled: true,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: String::new(),
            workers: 0,
            trust_forwarded_for: false,
            trusted_proxies: vec![],
            shutdown_timeout_secs: Seconds::new(10),
            header_timeout_secs: Seconds::new(10),
            body_timeout_secs: Seconds::new(30),
            body_min_bytes_per_sec: 16 * 1024,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://data/jubao.db".into(),
            max_connections: 8,
        }
    }
}

impl Default for KeysConfig {
    fn default() -> Self {
        Self {
            master_key_file: "data/master.key".into(),
            shred_key_file: String::new(),
        }
    }
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            url: Secret::default(),
            from: "jubao <noreply@localhost>".into(),
        }
    }
}

impl Default for IntakeConfig {
    fn default() -> Self {
        Self {
            accept_working_days: 15,
            lookup_failures_per_code: 5,
            lookup_failures_per_client: 20,
            lookup_window_secs: Seconds::new(900),
            max_json_bytes: 256 * 1024,
            filings_per_client: 30,
            filing_window_minutes: Minutes::new(10),
        }
    }
}

impl Default for EvidenceConfig {
    fn default() -> Self {
        Self {
            max_files: 9,
            max_file_bytes: 20 * 1024 * 1024,
            max_image_pixels: 50_000_000,
            max_concurrent_uploads: 16,
            upload_bytes_in_flight: 256 * 1024 * 1024,
        }
    }
}

impl Default for CalendarConfig {
    fn default() -> Self {
        Self {
            holidays_dir: "config/holidays".into(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Human,
            filter: "info".into(),
        }
    }
}
