//! The `jubao` command line (CONTRACT §1).

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
    Migrate,
    /// Manage encryption keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make a new data key active and re-encrypt every identity field, evidence file and
    /// saved receipt with it. Safe while the service runs; safe to interrupt and run again
    /// (it resumes).
    Rotate {
        /// Seconds to wait for running instances to switch to the new key.
        #[arg(long, default_value_t = 5)]
        settle_secs: u64,
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
    let format = cli
        .log_format
        .clone()
        .unwrap_or_else(|| config.log.format.clone());
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    crate::telemetry::init(&format, &config.log.filter, std::io::stderr, ansi);
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
        Command::Migrate => {
            let db = Db::connect(&config.database.url, 2).await?;
            db.migrate().await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Rotate { settle_secs },
        } => rotate_keys(config, Duration::from_secs(settle_secs)).await,
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config.clone()).await?;
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
    tracing::info!("jubao listening on {base}");
    tracing::info!("H5 reporting page: {base}/h5/");
    tracing::info!("staff console: {base}/console/");
    app.run_until_stopped().await
}

async fn rotate_keys(config: Config, settle: Duration) -> anyhow::Result<()> {
    let db = Db::connect(&config.database.url, 4).await?;
    db.migrate().await?;
    let master = vault::load_master_key(
        std::env::var("JUBAO_MASTER_KEY").ok(),
        config.master_key_path(),
    )?;
    let vault = Vault::open(db, master).await.context("opening the vault")?;
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
