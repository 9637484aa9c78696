//! The service's clock: what "now" is for every stored time, deadline, budget year and
//! claim window. It travels with the database handle ([`super::Db::now`]) so one
//! instance reads one time everywhere. In service it is the system clock; tests start it
//! at a literal instant (`Clock::starting_at`) and move it forward (`advance`), so a
//! deadline can be checked against a date worked out by hand and no test depends on the
//! day it runs. Credentials (JWT lifetimes, TOTP windows) keep to the system clock, which
//! the libraries that check them read.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

#[derive(Clone, Default)]
pub struct Clock(Option<Arc<Mutex<Shifted>>>);

/// A clock that runs at the real rate from a chosen start.
struct Shifted {
    start: DateTime<Utc>,
    since: Instant,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that reads `start` now and runs on from there.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self(Some(Arc::new(Mutex::new(Shifted {
            start,
            since: Instant::now(),
        }))))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            None => Utc::now(),
            Some(s) => {
                let s = s.lock().unwrap_or_else(|e| e.into_inner());
                let run = Duration::from_std(s.since.elapsed()).unwrap_or_default();
                s.start + run
            }
        }
    }

    /// Move a test clock forward (the system clock cannot be moved: does nothing).
    pub fn advance(&self, by: Duration) {
        if let Some(s) = &self.0 {
            let mut s = s.lock().unwrap_or_else(|e| e.into_inner());
            s.start += by;
        }
    }

    pub fn is_system(&self) -> bool {
        self.0.is_none()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_system() {
            f.write_str("Clock(system)")
        } else {
            write!(f, "Clock(test, now {})", self.now())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_clock_starts_where_told_and_moves_forward() {
        let start = DateTime::parse_from_rfc3339("2026-02-13T02:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let c = Clock::starting_at(start);
        let t = c.now();
        assert!(t >= start && t < start + Duration::seconds(5), "{t}");
        c.advance(Duration::days(30));
        assert!(c.now() >= start + Duration::days(30));
        let copy = c.clone();
        copy.advance(Duration::days(1));
        assert!(
            c.now() >= start + Duration::days(31),
            "clones share one clock"
        );
        assert!(Clock::system().now() > start);
    }
}
