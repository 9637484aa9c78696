//! The instance-wide bound on forms with files: at most `[evidence] max_concurrent_uploads`
//! of them being received and processed at once, holding at most
//! `[evidence] upload_bytes_in_flight` bytes between them. A form is admitted before its
//! first byte is read, counted at its declared `Content-Length` (or at the largest form
//! allowed when it declares none), and holds its share until its handler is done with the
//! files. One that does not fit is refused at once with 429 and `Retry-After`, so a burst of
//! large uploads can never make the instance buffer more than the budget.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{AppError, AppResult, Kind};

/// Seconds a refused upload is told to wait (`Retry-After`).
pub const RETRY_AFTER_SECS: u64 = 10;

pub struct UploadGate {
    slots: Arc<Semaphore>,
    bytes: Arc<Semaphore>,
    max_uploads: u32,
    budget: u32,
}

/// An admitted form's share of the gate, given back when dropped.
pub struct UploadPermit {
    _slot: OwnedSemaphorePermit,
    _bytes: OwnedSemaphorePermit,
}

impl UploadGate {
    pub fn new(max_uploads: u32, budget_bytes: u32) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(max_uploads as usize)),
            bytes: Arc::new(Semaphore::new(budget_bytes as usize)),
            max_uploads,
            budget: budget_bytes,
        }
    }

    /// Admit a form of `bytes` bytes, or refuse it (429) when the slots or the byte budget
    /// are taken. A form larger than the whole budget cannot be admitted ever; the caller
    /// has refused it as too large before asking.
    pub fn admit(&self, bytes: u64) -> AppResult<UploadPermit> {
        let busy = || {
            AppError::new(Kind::RateLimited, "uploads_busy", "error-uploads-busy")
                .arg("seconds", RETRY_AFTER_SECS)
        };
        let want = u32::try_from(bytes).unwrap_or(u32::MAX).min(self.budget);
        let slot = self.slots.clone().try_acquire_owned().map_err(|_| busy())?;
        let bytes = self
            .bytes
            .clone()
            .try_acquire_many_owned(want)
            .map_err(|_| busy())?;
        Ok(UploadPermit {
            _slot: slot,
            _bytes: bytes,
        })
    }

    /// Forms being received or processed now, and the bytes they hold.
    pub fn in_flight(&self) -> (usize, u64) {
        (
            (self.max_uploads as usize).saturating_sub(self.slots.available_permits()),
            u64::from(self.budget).saturating_sub(self.bytes.available_permits() as u64),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_is_admitted_only_while_slots_and_bytes_remain() {
        let gate = UploadGate::new(2, 100);
        let a = gate.admit(60).unwrap();
        // Bytes: 60 of 100 held, 50 more do not fit.
        let e = gate.admit(50).err().unwrap();
        assert_eq!((e.kind, e.code), (Kind::RateLimited, "uploads_busy"));
        let b = gate.admit(40).unwrap();
        // Slots: both taken.
        assert_eq!(gate.admit(0).err().unwrap().code, "uploads_busy");
        assert_eq!(gate.in_flight(), (2, 100));
        drop(a);
        assert_eq!(gate.in_flight(), (1, 40));
        let _c = gate.admit(60).unwrap();
        drop(b);
        assert_eq!(gate.in_flight(), (1, 60));
    }
}
