//! Typed jobs: each kind of outbox job is a payload type with its name, its de-duplication
//! key and its retry policy ([`Job`]); its handler receives the decoded payload ([`Run`]).
//! The producer writes `NewJob::of(&payload)`; the worker looks the kind up in the
//! [`Registry`](super::worker::Registry) and decodes the payload before the handler runs,
//! so a handler never sees raw JSON and a payload that no longer decodes is a permanent
//! failure (dead-lettered, visible to an admin), not a panic.

use futures_util::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::worker::JobError;
use super::{Claimed, NewJob};

/// How often a job is tried before it goes to the dead-letter list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// `[outbox] max_attempts`.
    Configured,
    /// A fixed number of attempts, whatever the configuration says.
    Attempts(i64),
}

/// A kind of outbox job.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The stored `kind`; never change it for a kind that may be queued.
    const KIND: &'static str;
    const RETRY: Retry = Retry::Configured;
    /// Jobs with the same key are enqueued once.
    fn dedupe_key(&self) -> Option<String> {
        None
    }
    /// The configured account, robot or provider it goes to, named on the dead-letter
    /// list (never a person).
    fn target(&self) -> Option<String> {
        None
    }
}

/// The handler of one kind of job.
pub trait Run<J: Job>: Send + Sync + 'static {
    fn run<'a>(&'a self, job: J, claimed: &'a Claimed) -> BoxFuture<'a, Result<(), JobError>>;
}

impl NewJob {
    /// The job for `payload`: its kind, its de-duplication key and its retry policy.
    pub fn of<J: Job>(payload: &J) -> Self {
        let mut job = NewJob::new(
            J::KIND,
            serde_json::to_value(payload).unwrap_or(serde_json::Value::Null),
        );
        job.dedupe_key = payload.dedupe_key();
        job.target = payload.target();
        job.max_attempts = match J::RETRY {
            Retry::Configured => None,
            Retry::Attempts(n) => Some(n),
        };
        job
    }
}
