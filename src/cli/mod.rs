//! The `jubao` command line (CONTRACT §1).

mod audit;
mod ops;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::startup::Application;
use crate::store::Db;
use crate::vault::{self, Vault};

#[derive(Parser)]
#[command(
    name = "jubao",
    version,
    about = "举报: medical-insurance fund fraud tips, from intake to reward"
)]
struct Cli {
    /// Log format: `human` (default) or `json`; overrides `[log] format`.
    #[arg(long, global = true, value_parser = ["human", "json"])]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate {
        /// Apply nothing: list the migrations this build would apply (exit status 1 when
        /// any is pending).
        #[arg(long)]
        check: bool,
    },
    /// Back up the embedded database while the service serves: an online, consistent,
    /// compressed snapshot with a manifest (never the master key). With --verify, check a
    /// backup instead: its digest, SQLite's integrity, this master key, the audit chain.
    Backup {
        /// Where to write the backup (must not exist).
        #[arg(
            long,
            value_name = "FILE",
            required_unless_present = "verify",
            conflicts_with = "verify"
        )]
        out: Option<std::path::PathBuf>,
        /// A backup to verify; nothing is written.
        #[arg(long, value_name = "FILE")]
        verify: Option<std::path::PathBuf>,
    },
    /// Restore a backup into the configured database, which must not exist yet; the backup
    /// is verified before anything is moved into place.
    Restore {
        /// The backup (`jubao backup --out`).
        file: std::path::PathBuf,
    },
    /// Manage encryption keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Check the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Export data for records and reports (no identity is ever exported).
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// The holiday calendar that deadlines count with.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// Reporter data kept no longer than needed (docs/retention.md).
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Purge what the retention policies say is due today (identity, chat and call ids and
    /// evidence originals; later the sanitized evidence), skipping cases under a legal
    /// hold; re-wrap the case keys still needed and move the shred chain to today. Batched
    /// and resumable; each purge is audited. The service also runs it once a day.
    Run {
        /// Count what would be purged and re-wrapped; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// The years in force (from a file, built in, or published by another instance) and,
    /// per year, how many open deadlines are provisional.
    Status,
    /// Read `[calendar] holidays_dir` again, publish it to every running instance (they
    /// switch within seconds) and recompute every provisional deadline from its own start.
    /// A bad file is named with its line, and nothing changes.
    Reload,
}

#[derive(Subcommand)]
enum ExportCommand {
    /// The lead ledger (线索台账): one row per tip, streamed to FILE with a progress bar.
    Ledger {
        /// Where to write the ledger.
        #[arg(long)]
        out: std::path::PathBuf,
        /// csv (default) or xlsx.
        #[arg(long, default_value = "csv", value_parser = ["csv", "xlsx"])]
        format: String,
        /// First day of receipt, YYYY-MM-DD (Asia/Shanghai); needs --to.
        #[arg(long, requires = "to")]
        from: Option<chrono::NaiveDate>,
        /// Last day of receipt, inclusive; needs --from.
        #[arg(long, requires = "from")]
        to: Option<chrono::NaiveDate>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a staff account. The password is read from JUBAO_PASSWORD, or from stdin.
    Add {
        username: String,
        /// One or more of intake, handler, supervisor, legal, finance, custodian, auditor,
        /// admin, separated by commas; admin only alone. The roles are given at once (the
        /// command line is the bootstrap path: in the service, the sensitive ones wait for
        /// a second admin).
        #[arg(long, value_delimiter = ',', required = true)]
        role: Vec<String>,
        /// 6-digit administrative region code; 000000 (the default) is national.
        #[arg(long, default_value = "000000")]
        region: String,
        /// Name shown to colleagues (defaults to the username).
        #[arg(long)]
        name: Option<String>,
        /// Address for deadline reminders.
        #[arg(long)]
        email: Option<String>,
        /// zh-CN (default) or en.
        #[arg(long, default_value = "zh-CN")]
        locale: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the keyed chain of the audit log, checked against every stored anchor (and
    /// FILE), and name the first broken entry.
    Verify {
        /// An anchor written by `jubao audit anchor`: its signature is checked, then that
        /// its entry still has its chain value and the log was not cut short before it.
        #[arg(long, value_name = "FILE")]
        anchor: Option<std::path::PathBuf>,
    },
    /// Verify the log, then sign a statement of its head (entry, chain value, time, number
    /// of entries) with the vault's Ed25519 anchor key; store it and write it to FILE, with
    /// the public key, to keep where the database's writers cannot reach.
    Anchor {
        /// Where to write the anchor (JSON).
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Print the master key as N shares (Shamir's secret sharing), any K of which rebuild
    /// it and fewer reveal nothing: one line each, for custodians to keep on paper.
    Split {
        /// How many shares to make (2–255): one per custodian.
        #[arg(long, value_name = "N")]
        shares: usize,
        /// How many shares rebuild the key (2–N).
        #[arg(long, value_name = "K")]
        threshold: usize,
    },
    /// Rebuild the master key from K share lines read from standard input and write it as
    /// the key file (or FILE); refused when that file exists.
    Combine {
        /// Where to write the key (default: `[keys] master_key_file`).
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
    /// Make a new data key active and re-encrypt everything sealed with it: identity
    /// fields, evidence files (originals too), saved receipts, staff TOTP secrets, the bots'
    /// conversations, saved replies and tokens. Safe while the service runs; safe to
    /// interrupt and run again (it resumes). With --retire, make no new key: destroy the
    /// keys a finished rotation retired.
    Rotate {
        /// Seconds to wait for running instances to switch to the new key.
        #[arg(long, default_value_t = 5)]
        settle_secs: u64,
        /// Destroy the retired data keys instead of rotating. Refused (and nothing
        /// destroyed) while a rotation is unfinished or anything is still sealed under
        /// another key than the active one.
        #[arg(long)]
        retire: bool,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("jubao: configuration error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let json = match cli.log_format.as_deref() {
        Some(f) => f == "json",
        None => config.log.format == crate::config::LogFormat::Json,
    };
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    crate::telemetry::init(json, &config.log.filter, std::io::stderr, ansi);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("jubao: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(run(cli.command.unwrap_or(Command::Serve), config));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "failed");
            eprintln!("jubao: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate { check: true } => {
            if !ops::migrate_check(&config).await? {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Backup {
            verify: Some(file), ..
        } => ops::verify(&config, &file).await,
        Command::Backup { out: Some(out), .. } => ops::backup(&config, &out).await,
        Command::Backup { .. } => anyhow::bail!("give --out FILE or --verify FILE"),
        Command::Restore { file } => ops::restore(&config, &file).await,
        Command::Keys {
            command: KeysCommand::Split { shares, threshold },
        } => ops::split(&config, shares, threshold),
        Command::Keys {
            command: KeysCommand::Combine { out },
        } => ops::combine(&config, out.as_deref()),
        Command::Migrate { check: false } => {
            let db = Db::connect(&config.database.url, 2).await?;
            db.migrate().await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Calendar {
            command: CalendarCommand::Status,
        } => {
            println!("year  holiday notice                  open provisional deadlines");
            for y in crate::workflow::recalendar::status(&config).await? {
                let origin = y.origin.unwrap_or_else(|| "none: weekends only".into());
                println!("{:<5} {:<31} {}", y.year, origin, y.provisional);
            }
            Ok(())
        }
        Command::Retention {
            command: RetentionCommand::Run { dry_run },
        } => {
            let r = crate::workflow::retention::run_from_config(&config, dry_run).await?;
            println!(
                "retention {} as of {}: {} ended cases looked at; identity purged {}, sanitized \
                 evidence purged {}; {} under a legal hold; {} waiting; {} case keys re-wrapped{}",
                if r.dry_run {
                    "dry run (nothing changed)"
                } else {
                    "run"
                },
                r.today,
                r.cases,
                r.purged_identity,
                r.purged_sanitized,
                r.held,
                r.waiting,
                r.rewrapped,
                r.chain_moved_to
                    .map(|d| format!("; shred chain moved to {d}"))
                    .unwrap_or_default()
            );
            Ok(())
        }
        Command::Calendar {
            command: CalendarCommand::Reload,
        } => {
            let r = crate::workflow::recalendar::reload(&config).await?;
            println!(
                "calendar reloaded: {} provisional deadlines recomputed, {} moved, {} no longer provisional",
                r.examined, r.moved, r.settled
            );
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Rotate { retire: true, .. },
        } => retire_keys(config).await,
        Command::Keys {
            command:
                KeysCommand::Rotate {
                    settle_secs,
                    retire: false,
                },
        } => rotate_keys(config, Duration::from_secs(settle_secs)).await,
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    region,
                    name,
                    email,
                    locale,
                },
        } => {
            add_user(
                config,
                crate::staff::NewUser {
                    display_name: name.unwrap_or_else(|| username.clone()),
                    username,
                    email,
                    roles: vec![],
                    region,
                    locale,
                    password: String::new(),
                },
                role,
            )
            .await
        }
        Command::Audit {
            command: AuditCommand::Verify { anchor },
        } => audit::verify(config, anchor.as_deref()).await,
        Command::Audit {
            command: AuditCommand::Anchor { out },
        } => audit::anchor(config, &out).await,
        Command::Export {
            command:
                ExportCommand::Ledger {
                    out,
                    format,
                    from,
                    to,
                },
        } => export_ledger(config, &out, &format, from, to).await,
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config.clone()).await?;
    let state = app.state();
    let base = if config.server.public_url.is_empty() {
        let host = config
            .server
            .listen
            .rsplit_once(':')
            .map_or("127.0.0.1", |(h, _)| h);
        format!("http://{host}:{}", app.port())
    } else {
        config.public_url()
    };
    if let Some(code) = crate::staff::auth::ensure_setup_code(&state.db, &state.vault).await? {
        // Printed once, on the first start of a database with no admin; not logged.
        println!(
            "\n  First-admin setup code: {code}\n  Create the first admin with it in the staff console: {base}/console/#/setup\n  (or through the API: POST /api/v1/auth/setup, README \"The first admin\"),\n  or run `jubao user add NAME --role admin` instead.\n  The code works once and is not shown again.\n"
        );
    }
    tracing::info!("jubao listening on {base}");
    tracing::info!("H5 reporting page: {base}/h5/");
    tracing::info!("staff console: {base}/console/");
    app.run_until_stopped().await
}

/// Connect, migrate and open the vault with the configured master key.
async fn open_vault(config: &Config, connections: u32) -> anyhow::Result<Vault> {
    let db = Db::connect(&config.database.url, connections).await?;
    db.migrate().await?;
    let master = vault::configured_master_key(config.master_key_path())?;
    Vault::open(db, master).await.context("opening the vault")
}

async fn rotate_keys(config: Config, settle: Duration) -> anyhow::Result<()> {
    let vault = open_vault(&config, 4).await?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "re-encrypting {bar:40} {pos}/{len} rows ({eta} left)",
        )
        .expect("valid template"),
    );
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let outcome = vault::rotate::rotate(&vault, settle, &progress).await?;
    bar.finish();
    println!(
        "{} data key {}: {} rows re-encrypted",
        if outcome.resumed {
            "resumed rotation to"
        } else {
            "rotated to"
        },
        outcome.active_key,
        outcome.resealed
    );
    Ok(())
}

async fn retire_keys(config: Config) -> anyhow::Result<()> {
    let vault = open_vault(&config, 2).await?;
    let outcome = vault::rotate::retire(&vault).await?;
    if outcome.destroyed.is_empty() {
        println!(
            "no retired data key to destroy (active data key {})",
            outcome.active_key
        );
    } else {
        let ids: Vec<String> = outcome.destroyed.iter().map(u32::to_string).collect();
        println!(
            "destroyed retired data key(s) {}; everything is sealed under data key {}",
            ids.join(", "),
            outcome.active_key
        );
    }
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("JUBAO_PASSWORD") {
        return Ok(p);
    }
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprint!("password: ");
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

async fn add_user(
    config: Config,
    mut new: crate::staff::NewUser,
    roles: Vec<String>,
) -> anyhow::Result<()> {
    use crate::staff;
    let msg = |id: &str| crate::i18n::t(crate::i18n::Locale::En, id, &[]);
    new.username = staff::parse_username(&new.username).map_err(|m| anyhow::anyhow!(msg(m)))?;
    new.roles = staff::parse_roles(&roles.join(",")).map_err(|m| anyhow::anyhow!(msg(m)))?;
    new.region = staff::parse_region(&new.region)
        .map_err(|_| anyhow::anyhow!("--region must be a 6-digit region code or 000000"))?;
    new.locale = crate::i18n::Locale::parse(&new.locale)
        .ok_or_else(|| anyhow::anyhow!("--locale must be zh-CN or en"))?
        .tag()
        .to_string();
    new.password = read_password()?;
    staff::check_password(&new.password).map_err(|m| anyhow::anyhow!(msg(m)))?;
    let vault = open_vault(&config, 2).await?;
    let hash = staff::hash_password_queued(&new.password)
        .await
        .map_err(|e| anyhow::anyhow!(e.message(crate::i18n::Locale::En)))?;
    let mut tx = vault.db().begin().await?;
    crate::audit::lock(&mut tx).await?;
    let user = staff::create(&mut tx, &new, &hash)
        .await
        .map_err(|e| anyhow::anyhow!(e.message(crate::i18n::Locale::En)))?;
    crate::audit::append(
        &mut tx,
        vault.audit_key(),
        &crate::audit::Entry {
            actor: &crate::audit::Actor {
                id: None,
                name: "cli".into(),
            },
            action: "user.create",
            outcome: crate::audit::Outcome::Ok,
            report_id: None,
            detail: serde_json::json!({ "user": user.id, "roles": user.roles, "region": user.region }),
        },
    )
    .await?;
    tx.commit().await?;
    let needs_totp = user.roles.iter().any(|r| r.requires_totp());
    println!(
        "created {} ({}) in region {}{}",
        user.username,
        staff::roles_string(&user.roles),
        user.region,
        if needs_totp {
            "; TOTP set-up is required at first sign-in"
        } else {
            ""
        }
    );
    Ok(())
}

async fn export_ledger(
    config: Config,
    out: &std::path::Path,
    format: &str,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
) -> anyhow::Result<()> {
    use crate::rewards::ledger;
    let format = ledger::Format::parse(format).context("format is csv or xlsx")?;
    if let (Some(f), Some(t)) = (from, to) {
        anyhow::ensure!(f <= t, "--from is after --to");
    }
    let range = ledger::Range { from, to };
    let db = Db::connect(&config.database.url, 2).await?;
    db.migrate().await?;
    let total = ledger::count(&db, range).await?;
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template("ledger {bar:40} {pos}/{len} cases ({eta})")
            .expect("valid template"),
    );
    let rows = ledger::export(
        &db,
        std::io::BufWriter::with_capacity(1 << 16, file),
        format,
        range,
        |done| bar.set_position(done),
    )
    .await?;
    bar.finish_and_clear();
    // An export is a read of every listed case: audited, with what was exported (not who
    // was paid).
    let master = crate::vault::configured_master_key(config.master_key_path())?;
    let vault = crate::vault::Vault::open(db.clone(), master).await?;
    crate::audit::append_alone(
        &db,
        vault.audit_key(),
        &crate::audit::Entry::ok(
            &crate::audit::Actor {
                id: None,
                name: "cli".into(),
            },
            "export.ledger",
            serde_json::json!({
                "rows": rows,
                "format": format!("{format:?}").to_lowercase(),
                "from": from.map(|d| d.to_string()),
                "to": to.map(|d| d.to_string()),
            }),
        ),
    )
    .await?;
    println!("ledger written: {rows} cases to {}", out.display());
    Ok(())
}
