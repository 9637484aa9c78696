//! Building and running the application: the same path for `jubao serve` and for tests,
//! which start it on port 0 and talk to it over real HTTP.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{middleware, App, HttpServer};
use anyhow::Context;
use tokio::sync::Semaphore;

use crate::channels::hotline::{CallbackSender, RecordingHandler, RecordingJob};
use crate::channels::wechat::jobs::{BotJobs, BotPurge, BotSender};
use crate::channels::wechat::jobs::{MediaJob, MessageJob};
use crate::config::Config;
use crate::deadlines::calendar::Calendar;
use crate::deadlines::rules::RuleSet;
use crate::deadlines::Calendars;
use crate::intake::Intake;
use crate::notify::email::Email;
use crate::notify::email::Mailer;
use crate::notify::robots::{RobotPost, StaffAlert};
use crate::notify::worker::{Registry, Settings};
use crate::store::Db;
use crate::vault::{self, Vault};
use crate::web::{self as http, AppState};
use crate::workflow::feedback::{FeedbackHandler, FeedbackJob};
use crate::workflow::sweep::Sweeper;
use crate::workflow::Workflow;

/// Feedback senders for the chat channels: reporter-visible status changes reach the user
/// as a customer-service message.
fn bot_senders(
    bots: &Arc<crate::channels::wechat::Bots>,
) -> std::collections::HashMap<&'static str, Arc<dyn crate::workflow::feedback::Sender>> {
    let sender: Arc<dyn crate::workflow::feedback::Sender> = Arc::new(BotSender(bots.clone()));
    [("wechat", sender.clone()), ("wecom", sender)]
        .into_iter()
        .collect()
}

/// The configured `[[robots]]` as the outbox sees them.
fn robots(config: &Config, db: &Db) -> anyhow::Result<crate::notify::robots::Robots> {
    use crate::config::RobotKindConfig;
    use crate::notify::robots::{Robot, RobotKind, Robots};
    let robots = config
        .robots
        .iter()
        .map(|r| Robot {
            name: r.label(),
            kind: match r.kind {
                RobotKindConfig::Wecom => RobotKind::Wecom,
                RobotKindConfig::Dingtalk => RobotKind::Dingtalk,
            },
            region: r.region.clone(),
            url: r.url.expose().to_string(),
            secret: r.secret.as_ref().map(|s| s.expose().to_string()),
            locale: crate::i18n::Locale::parse(&r.locale).unwrap_or_default(),
        })
        .collect();
    Ok(Robots {
        db: db.clone(),
        robots,
        http: Robots::client()?,
        public_url: config.public_url(),
        max_attempts: config.outbox.max_attempts,
    })
}

/// `[sms]` as the feedback handler's sender, when a provider is configured.
fn sms(config: &Config) -> anyhow::Result<Option<Arc<crate::notify::sms::Sms>>> {
    use crate::notify::sms::{Provider, Sms, SmsSettings};
    let c = &config.sms;
    if !c.enabled() {
        return Ok(None);
    }
    let provider = match c.provider.as_str() {
        "aliyun" => Provider::Aliyun,
        _ => Provider::Tencent,
    };
    Ok(Some(Arc::new(Sms {
        settings: SmsSettings {
            provider,
            endpoint: c.endpoint_or_default(),
            key_id: c.key_id.clone(),
            secret: c.secret.expose().to_string(),
            sign_name: c.sign_name.clone(),
            app_id: c.app_id.clone(),
            region: c.region_or_default(),
            template_id_status: c.template_id_status.clone(),
            template_id_reward: Some(c.template_id_reward.clone()).filter(|t| !t.is_empty()),
        },
        http: Sms::client()?,
    })))
}

pub struct Application {
    port: u16,
    server: Server,
    state: actix_web::web::Data<AppState>,
    worker: Option<tokio::task::JoinHandle<()>>,
    calendar_watch: tokio::task::JoinHandle<()>,
    backups: Option<tokio::task::JoinHandle<()>>,
}

impl Application {
    /// Connect, migrate, open the vault and bind the listener (not yet serving).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = Db::connect(&config.database.url, config.database.max_connections).await?;
        db.migrate().await?;
        let master = vault::configured_master_key(config.master_key_path())?;
        Self::build_with(config, db, master).await
    }

    /// As [`Application::build`], with the database and master key given (tests).
    pub async fn build_with(
        config: Config,
        db: Db,
        master: vault::SecretKey,
    ) -> anyhow::Result<Self> {
        let vault = Arc::new(
            Vault::open_shredding(
                db.clone(),
                master,
                &config.shred_key_path(),
                config.retention.key_horizon_days,
            )
            .await
            .context("opening the vault")?,
        );
        let retention = Arc::new(
            crate::workflow::retention::policies(&config)
                .context("loading the retention policies")?,
        );
        let rekeyed = crate::workflow::recusal::rekey_institutions(&db).await?;
        if rekeyed > 0 {
            tracing::info!(rows = rekeyed, "institution names re-keyed for recusal");
        }
        let local = Calendar::load(std::path::Path::new(&config.calendar.holidays_dir))
            .context("loading the holiday calendar")?;
        let calendar = Calendars::new(local.clone());
        let rules = Arc::new(RuleSet::load(&config).context("loading the deadline rules")?);
        crate::rewards::load_policies(&config.rewards.policies_dir)
            .context("loading the reward policies")?;
        let triage = Arc::new(
            crate::workflow::triage::weights(&config.triage.weights_dir)
                .context("loading the triage weights")?,
        );
        let intake = Intake::new(db.clone(), vault.clone(), calendar.clone(), rules.clone())
            .with_case_defaults(
                &config.workflow.default_region,
                config.workflow.remind_before_working_days,
            )
            .with_alerts((!config.robots.is_empty()).then_some(config.outbox.max_attempts));
        let workflow = Workflow {
            db: db.clone(),
            audit: vault.audit_key().clone(),
            calendar,
            rules,
            config: config.clone(),
            rewards: Arc::new(crate::rewards::Steps),
            reads: crate::audit::ReadLog::start(db.clone(), vault.audit_key().clone()),
        };
        // Publish the years this instance loaded, take the calendar every instance shares,
        // and recompute the deadlines a new year fixes. (Only on a current schema: `build`
        // migrates first; a test may start on an older one and migrate later.)
        if db.ready().await.is_ok() {
            let moved = crate::workflow::recalendar::adopt(&workflow, &local)
                .await
                .context("adopting the holiday calendar")?;
            if moved.examined > 0 {
                tracing::info!(
                    examined = moved.examined,
                    moved = moved.moved,
                    settled = moved.settled,
                    "provisional deadlines recomputed"
                );
            }
            for w in crate::workflow::recalendar::warnings(&workflow).await? {
                tracing::warn!("{w}");
            }
        }
        let calendar_watch = crate::workflow::recalendar::watch(workflow.clone());
        let backups = crate::ops::schedule::spawn(db.clone(), vault.clone(), config.backup.clone());
        let mailer = Arc::new(Mailer::new(&config.smtp.url, &config.smtp.from)?);
        let bots = Arc::new(crate::channels::wechat::Bots::new(
            &config,
            db.clone(),
            vault.clone(),
        )?);
        let worker = if config.outbox.enabled {
            let mut senders = bot_senders(&bots);
            senders.insert(
                "hotline",
                Arc::new(CallbackSender::new(db.clone(), &config)?),
            );
            let mut reg = Registry::default();
            let bot_jobs = Arc::new(BotJobs(bots.clone()));
            let robots = Arc::new(robots(&config, &db)?);
            reg.register::<Email>(mailer.clone())
                .register::<crate::staff::mail::StaffEmail>(Arc::new(
                    crate::staff::mail::StaffMailer {
                        db: db.clone(),
                        mailer: mailer.clone(),
                    },
                ))
                .register::<RecordingJob>(Arc::new(RecordingHandler::new(
                    db.clone(),
                    vault.clone(),
                    &config,
                )))
                .register::<FeedbackJob>(Arc::new(FeedbackHandler {
                    db: db.clone(),
                    vault: vault.clone(),
                    mailer: mailer.clone(),
                    senders,
                    sms: sms(&config)?,
                }))
                .register::<StaffAlert>(robots.clone())
                .register::<RobotPost>(robots)
                .register::<crate::workflow::related::RelatedJob>(Arc::new(
                    crate::workflow::related::RelatedHandler {
                        db: db.clone(),
                        triage: triage.clone(),
                    },
                ))
                .register::<MediaJob>(bot_jobs.clone())
                .register::<MessageJob>(bot_jobs)
                .every(Arc::new(crate::rewards::Sweeper(workflow.clone())))
                .every(Arc::new(Sweeper(workflow.clone())))
                .every(Arc::new(crate::workflow::recalendar::CalendarCheck(
                    workflow.clone(),
                )))
                .every(Arc::new(BotPurge(bots.clone())))
                .every(Arc::new(crate::workflow::retention::run::DailyRetention {
                    wf: workflow.clone(),
                    vault: vault.clone(),
                    policies: retention.clone(),
                }))
                .every(Arc::new(crate::audit::anchor::Anchorer {
                    db: db.clone(),
                    key: vault.audit_key().clone(),
                }));
            let o = &config.outbox;
            Some(crate::notify::worker::spawn(
                db.clone(),
                Arc::new(reg),
                Settings {
                    // In range: checked when the configuration was loaded.
                    poll: o.poll_ms.std(),
                    lease: o.lease_secs.chrono(),
                    backoff_base: o.backoff_base_secs.chrono(),
                    backoff_max: o.backoff_max_secs.chrono(),
                    periodic_every: o.sweep_secs.std(),
                },
            ))
        } else {
            None
        };
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let state = actix_web::web::Data::new(AppState {
            config: config.clone(),
            db,
            vault,
            intake,
            workflow,
            mailer,
            decode_permits: Semaphore::new(cores),
            bots,
            stats: Default::default(),
            public: Default::default(),
            uploads: crate::channels::gate::UploadGate::new(
                config.evidence.max_concurrent_uploads,
                config.evidence.upload_bytes_in_flight,
            ),
        });
        let listener = TcpListener::bind(&config.server.listen)
            .with_context(|| format!("binding {}", config.server.listen))?;
        let port = listener.local_addr()?.port();
        let data = state.clone();
        let doors = AppState::doors(&state.clone().into_inner());
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(doors.clone())
                .wrap(middleware::from_fn(http::body_deadline))
                .wrap(middleware::from_fn(http::refuse_nul))
                .wrap(middleware::from_fn(http::middleware))
                .wrap(middleware::Compress::default())
                .configure(http::routes)
        })
        .listen(listener)?
        .shutdown_timeout(config.server.shutdown_timeout_secs.std().as_secs())
        .client_request_timeout(config.server.header_timeout_secs.std());
        if config.server.workers > 0 {
            server = server.workers(config.server.workers as usize);
        }
        crate::telemetry::metrics().up.set(1);
        Ok(Self {
            port,
            server: server.run(),
            state,
            worker,
            calendar_watch,
            backups,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> actix_web::web::Data<AppState> {
        self.state.clone()
    }

    /// Serve until SIGINT/SIGTERM, then finish in-flight requests and close the pool.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        crate::web::stats::warm(self.state.clone());
        self.server.await?;
        if let Some(w) = &self.worker {
            w.abort();
        }
        self.calendar_watch.abort();
        if let Some(b) = &self.backups {
            b.abort();
        }
        self.state.db.close().await;
        Ok(())
    }

    /// Serve in the background (tests); the handle stops it.
    pub fn spawn(self) -> actix_web::dev::ServerHandle {
        let handle = self.server.handle();
        tokio::spawn(self.server);
        if let Some(w) = self.worker {
            // Tests stop the server through the handle; the worker dies with the runtime.
            drop(w);
        }
        handle
    }
}
