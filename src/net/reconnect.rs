//! Opt-in client auto-reconnect: the options ([`ReconnectOptions`], on
//! [`crate::net::ConnectOptions::reconnect`]), the event of each attempt ([`ReconnectEvent`]) and
//! the application's answer to it ([`ReconnectDecision`]), and the report of messages that could
//! not be delivered ([`UndeliveredReason`]). The loop side lives in `context/reconnect.rs`.
//!
//! Retries are timers of the event loop, never sleeps: stopping ([`crate::net::Context::close`],
//! [`crate::net::Context::abort`], [`crate::net::Context::stop_reconnect`], or
//! [`crate::net::Remote::close`] from another thread) returns at once whether or not a retry is
//! pending.

use std::time::Duration;

/// How a client connection reconnects after it drops (or after its first connect fails).
///
/// The delay before attempt `n` (1-based, counted since the last connection that stayed up for
/// `stable_after`) is drawn uniformly from `[min_delay, min(max_delay, min_delay * 2^(n-1))]`
/// ("full jitter" above the minimum): attempt 1 waits exactly `min_delay`, later ones spread out
/// so that many clients of a restarted server do not come back in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconnectOptions {
    /// Shortest delay before an attempt (> 0). Default 500 ms.
    pub min_delay: Duration,
    /// Longest delay before an attempt (>= `min_delay`). Default 30 s.
    pub max_delay: Duration,
    /// Give up after this many attempts in a row (the connection then closes: `on_close`, 1006).
    /// Default `None`: retry until stopped.
    pub max_attempts: Option<u32>,
    /// A connection that stayed open this long resets the attempt count (and so the backoff).
    /// Default 10 s.
    pub stable_after: Duration,
    /// While the connection is not open, sends (`send`, `send_text`, `send_binary`, and sends
    /// through a [`crate::net::Remote`]) are queued up to this many payload bytes and written, in
    /// order, right after the next open (before `on_open` runs). `0` (the default) queues nothing:
    /// such sends fail at once with [`crate::net::Error::NotConnected`]. When a message does not
    /// fit, the oldest queued messages are dropped to make room (a message larger than the whole
    /// bound is dropped itself); each dropped message is reported to
    /// [`crate::net::Handler::on_undelivered`] with [`UndeliveredReason::QueueFull`]. Messages
    /// still queued when reconnecting ends are reported there too (`Exhausted`, `Stopped`).
    pub offline_queue_bytes: usize,
    /// Seed of the jitter's random numbers; `0` (the default) seeds from the clock and the
    /// connection id. Tests set it to get the same delays every run.
    pub seed: u64,
}

impl Default for ReconnectOptions {
    fn default() -> Self {
        Self {
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_attempts: None,
            stable_after: Duration::from_secs(10),
            offline_queue_bytes: 0,
            seed: 0,
        }
    }
}

impl ReconnectOptions {
    /// Checks the options (`min_delay` > 0, `max_delay` >= `min_delay`, `max_attempts` > 0).
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.min_delay.is_zero() {
            return Err("reconnect min_delay must be > 0".into());
        }
        if self.max_delay < self.min_delay {
            return Err("reconnect max_delay must be >= min_delay".into());
        }
        if self.max_attempts == Some(0) {
            return Err("reconnect max_attempts must be > 0 (None: no limit)".into());
        }
        Ok(())
    }

    /// The delay before attempt `attempt` (1-based), with `random` a uniformly distributed number.
    pub(crate) fn delay(&self, attempt: u32, random: u64) -> Duration {
        let min = self.min_delay.as_millis().min(u128::from(u32::MAX)) as u64;
        let max = self.max_delay.as_millis().min(u128::from(u32::MAX)) as u64;
        let shift = attempt.saturating_sub(1).min(32);
        let ceiling = min.saturating_mul(1u64 << shift).min(max).max(min);
        Duration::from_millis(min + random % (ceiling - min + 1))
    }
}

/// What [`crate::net::Handler::on_reconnect`] is told before each attempt.
#[derive(Debug, Clone, Copy)]
pub struct ReconnectEvent<'a> {
    /// The attempt about to be scheduled: 1 for the first retry after a drop (or after the first
    /// connect failed), counted since the last connection that stayed up for `stable_after`.
    pub attempt: u32,
    /// How long the loop will wait before it (within `[min_delay, max_delay]`).
    pub delay: Duration,
    /// Why the last connection or attempt ended, in English (the error that `on_error` would have
    /// had, or the peer's close).
    pub error: &'a str,
}

/// The application's answer to a [`ReconnectEvent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconnectDecision {
    /// Attempt after the event's delay.
    Proceed,
    /// Attempt after this delay instead (any value; not clamped to the options).
    Delay(Duration),
    /// Do not attempt: the connection closes now (queued messages are reported undelivered with
    /// [`UndeliveredReason::Stopped`], then `on_close` with 1006).
    Stop,
}

/// Why a queued message was not delivered ([`crate::net::Handler::on_undelivered`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UndeliveredReason {
    /// The offline queue was full (`ReconnectOptions::offline_queue_bytes`).
    QueueFull,
    /// The attempts ran out (`ReconnectOptions::max_attempts`).
    Exhausted,
    /// Reconnecting was stopped (close, abort, `stop_reconnect`, `ReconnectDecision::Stop`,
    /// shutdown) before the message could be written.
    Stopped,
}

/// A tiny xorshift64* generator for the jitter: the spread of retry delays needs no
/// cryptographic quality and the crate takes no random-number dependency for it. Never 0.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Jitter(u64);

impl Jitter {
    pub(crate) fn new(seed: u64) -> Self {
        // splitmix64 of the seed, so nearby seeds give unrelated sequences.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Self(z.max(1))
    }

    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(min: u64, max: u64) -> ReconnectOptions {
        ReconnectOptions {
            min_delay: Duration::from_millis(min),
            max_delay: Duration::from_millis(max),
            ..ReconnectOptions::default()
        }
    }

    #[test]
    fn delays_stay_within_min_and_the_doubling_ceiling() {
        let o = options(100, 1000);
        let mut jitter = Jitter::new(7);
        for attempt in 1..=40 {
            let ceiling = (100u64 << (attempt - 1).min(10)).min(1000);
            for _ in 0..200 {
                let d = o.delay(attempt, jitter.next()).as_millis() as u64;
                assert!((100..=ceiling).contains(&d), "attempt {attempt}: {d} ms");
            }
        }
        assert_eq!(o.delay(1, u64::MAX), Duration::from_millis(100));
    }

    #[test]
    fn delays_spread_over_the_range() {
        let o = options(100, 1000);
        let mut jitter = Jitter::new(1);
        let delays: Vec<u64> = (0..1000)
            .map(|_| o.delay(10, jitter.next()).as_millis() as u64)
            .collect();
        assert!(delays.iter().any(|&d| d < 200));
        assert!(delays.iter().any(|&d| d > 900));
    }

    #[test]
    fn seeds_repeat_and_differ() {
        let (mut a, mut b, mut c) = (Jitter::new(5), Jitter::new(5), Jitter::new(6));
        let (x, y, z) = (a.next(), b.next(), c.next());
        assert_eq!(x, y);
        assert_ne!(x, z);
    }

    #[test]
    fn bad_options_are_refused() {
        assert!(options(0, 10).check().is_err());
        assert!(options(20, 10).check().is_err());
        let mut o = options(10, 10);
        o.max_attempts = Some(0);
        assert!(o.check().is_err());
        o.max_attempts = Some(1);
        assert!(o.check().is_ok());
    }
}
