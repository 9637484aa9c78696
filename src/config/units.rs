//! Typed configuration values. A time span is read from the same integer key as before
//! (`lease_secs = 60`) but held as a span in its unit, so no module converts or clamps a raw
//! number, and a negative value is refused at load with the key named
//! (`in `outbox.lease_secs``). The ranges of every number are in `bounds`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

macro_rules! span {
    ($(#[$doc:meta])* $name:ident, $unit:literal, $ms:expr, $to_std:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "i64", into = "i64")]
        pub struct $name(u32);

        impl $name {
            pub const fn new(n: u32) -> Self {
                Self(n)
            }

            /// The number as written in the configuration, in its unit.
            pub fn get(self) -> i64 {
                i64::from(self.0)
            }

            pub fn std(self) -> Duration {
                let to_std: fn(u64) -> Duration = $to_std;
                to_std(u64::from(self.0))
            }

            pub fn chrono(self) -> chrono::Duration {
                chrono::Duration::milliseconds(self.std().as_millis() as i64)
            }

            /// Whole seconds (rounded down for milliseconds).
            pub fn secs(self) -> i64 {
                i64::from(self.0) * $ms / 1000
            }
        }

        impl TryFrom<i64> for $name {
            type Error = String;
            fn try_from(n: i64) -> Result<Self, String> {
                u32::try_from(n).map(Self).map_err(|_| {
                    format!(concat!("{} is not a number of ", $unit, " (0 or more)"), n)
                })
            }
        }

        impl From<$name> for i64 {
            fn from(s: $name) -> i64 {
                s.get()
            }
        }
    };
}

span!(
    /// A span configured in milliseconds (`*_ms` keys).
    Millis,
    "milliseconds",
    1,
    Duration::from_millis
);
span!(
    /// A span configured in seconds (`*_secs` keys).
    Seconds,
    "seconds",
    1000,
    Duration::from_secs
);
span!(
    /// A span configured in minutes (`*_minutes` keys).
    Minutes,
    "minutes",
    60_000,
    |m| Duration::from_secs(m * 60)
);
span!(
    /// A span configured in hours (`*_hours` keys).
    Hours,
    "hours",
    3_600_000,
    |h| Duration::from_secs(h * 3600)
);

/// `[log] format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line per event.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_convert_in_their_unit() {
        assert_eq!(Seconds::new(90).std(), Duration::from_secs(90));
        assert_eq!(Minutes::new(15).std(), Duration::from_secs(900));
        assert_eq!(Hours::new(12).secs(), 43_200);
        assert_eq!(Millis::new(1500).secs(), 1);
        assert_eq!(Minutes::new(2).chrono(), chrono::Duration::seconds(120));
        assert_eq!(
            Seconds::try_from(-1).unwrap_err(),
            "-1 is not a number of seconds (0 or more)"
        );
    }
}
