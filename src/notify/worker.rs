//! The outbox worker: each instance runs one loop that claims due jobs and hands each to
//! the handler registered for its kind, and periodically runs the deadline sweep.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use futures_util::future::BoxFuture;

use super::{claim, complete, fail, Claimed, FailCode, Job, Run};
use crate::store::Db;

/// Why a job did not succeed, as a fixed code ([`FailCode`]): the only thing logged about
/// the failure and stored as the job's last error, so no remote text reaches either.
#[derive(Debug)]
pub enum JobError {
    /// Try again later (network, remote 5xx, timeouts).
    Retry(FailCode),
    /// Retrying cannot help (malformed payload, unknown recipient): dead-letter it now.
    Permanent(FailCode),
}

impl JobError {
    pub fn retry(e: impl Into<FailCode>) -> Self {
        JobError::Retry(e.into())
    }
    pub fn permanent(e: impl Into<FailCode>) -> Self {
        JobError::Permanent(e.into())
    }

    pub fn code(&self) -> &FailCode {
        match self {
            JobError::Retry(c) | JobError::Permanent(c) => c,
        }
    }
}

/// Something that performs one kind of job.
/// An untyped handler; jobs are registered typed ([`Registry::register`]).
trait Handler: Send + Sync {
    fn run<'a>(&'a self, job: &'a Claimed) -> BoxFuture<'a, Result<(), JobError>>;
}

/// Periodic work the worker loop runs between jobs (the deadline sweep).
pub trait Periodic: Send + Sync {
    fn tick(&self) -> BoxFuture<'_, anyhow::Result<()>>;
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub poll: StdDuration,
    pub lease: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub periodic_every: StdDuration,
}

#[derive(Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Arc<dyn Handler>>,
    periodic: Vec<Arc<dyn Periodic>>,
}

/// A [`Run`] for one job type as an untyped [`Handler`]: decodes the payload first.
struct Typed<J: Job> {
    run: Arc<dyn Run<J>>,
}

impl<J: Job> Handler for Typed<J> {
    fn run<'a>(&'a self, job: &'a Claimed) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let payload: J = serde_json::from_value(job.payload.clone())
                .map_err(|_| JobError::permanent("undecodable_payload"))?;
            self.run.run(payload, job).await
        })
    }
}

impl Registry {
    /// Run jobs of type `J` with `run`.
    pub fn register<J: Job>(&mut self, run: Arc<dyn Run<J>>) -> &mut Self {
        self.handlers.insert(J::KIND, Arc::new(Typed { run }));
        self
    }

    pub fn every(&mut self, p: Arc<dyn Periodic>) -> &mut Self {
        self.periodic.push(p);
        self
    }
}

/// Run one job to its end state. Returns whether a job was found.
pub async fn run_once(db: &Db, reg: &Registry, s: &Settings) -> anyhow::Result<bool> {
    let Some(job) = claim(db, s.lease).await? else {
        return Ok(false);
    };
    let result = match reg.handlers.get(job.kind.as_str()) {
        Some(h) => {
            let lease = s.lease.to_std().unwrap_or(StdDuration::from_secs(60));
            match tokio::time::timeout(lease, h.run(&job)).await {
                Ok(r) => r,
                Err(_) => Err(JobError::retry("timed_out")),
            }
        }
        None => Err(JobError::retry("no_handler")),
    };
    match result {
        Ok(()) => {
            complete(db, job.id).await?;
            tracing::info!(job_id = job.id, kind = %job.kind, "job done");
        }
        Err(e) => {
            let permanent = matches!(e, JobError::Permanent(_));
            let code = e.code();
            let dead = fail(db, &job, code, permanent, s.backoff_base, s.backoff_max).await?;
            if dead {
                tracing::error!(job_id = job.id, kind = %job.kind, error = %code, "job dead-lettered");
            } else {
                tracing::warn!(job_id = job.id, kind = %job.kind, attempt = job.attempts, error = %code, "job failed; will retry");
            }
        }
    }
    Ok(true)
}

/// Claim and run jobs until stopped; run the periodic tasks every `periodic_every`.
pub fn spawn(db: Db, reg: Arc<Registry>, s: Settings) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last_periodic: Option<tokio::time::Instant> = None;
        loop {
            if last_periodic.map_or(true, |t| t.elapsed() >= s.periodic_every) {
                last_periodic = Some(tokio::time::Instant::now());
                for p in &reg.periodic {
                    if let Err(e) = p.tick().await {
                        tracing::warn!(error = %format!("{e:#}"), "periodic task failed");
                    }
                }
            }
            let mut worked = false;
            for _ in 0..32 {
                match run_once(&db, &reg, &s).await {
                    Ok(true) => worked = true,
                    Ok(false) => break,
                    Err(e) => {
                        tracing::warn!(error = %format!("{e:#}"), "outbox worker error");
                        break;
                    }
                }
            }
            if !worked {
                tokio::time::sleep(s.poll).await;
            }
        }
    })
}
