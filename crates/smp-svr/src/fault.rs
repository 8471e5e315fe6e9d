//! Faults injected on every transport's input (`--fault`), for testing how clients retry
//! and resume: a request can be dropped, delivered twice, or held back for a while, as a
//! lossy radio link or a congested network does to it.
//!
//! The decisions come from a seeded generator (`--fault-seed`), so a run can be repeated
//! exactly with the same inputs, and each one is logged at info level with the packet's
//! header. Faults apply to SMP packets (a UDP datagram, a decoded console frame), never to
//! shell text.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use crate::engine::Peer;

/// One `--fault` option.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// `drop=P%`: each request is lost with probability P %.
    Drop(f64),
    /// `duplicate=P%`: each request is processed twice with probability P %.
    Duplicate(f64),
    /// `delay=MS`: each request is processed MS milliseconds after it arrived.
    Delay(Duration),
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad =
            || format!("--fault {s:?}: expected drop=P%, duplicate=P% (0 to 100) or delay=MS");
        let (kind, value) = s.split_once('=').ok_or_else(bad)?;
        let pct = || -> Result<f64, String> {
            let p: f64 = value
                .strip_suffix('%')
                .unwrap_or(value)
                .parse()
                .map_err(|_| bad())?;
            if (0.0..=100.0).contains(&p) {
                Ok(p)
            } else {
                Err(bad())
            }
        };
        match kind {
            "drop" => Ok(Fault::Drop(pct()?)),
            "duplicate" => Ok(Fault::Duplicate(pct()?)),
            "delay" => value
                .parse()
                .map(|ms| Fault::Delay(Duration::from_millis(ms)))
                .map_err(|_| bad()),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Drop(p) => write!(f, "drop={p}%"),
            Fault::Duplicate(p) => write!(f, "duplicate={p}%"),
            Fault::Delay(d) => write!(f, "delay={}", d.as_millis()),
        }
    }
}

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Lost.
    Dropped,
    /// Processed `copies` times (1 or 2), after `delay`.
    Delivered {
        /// 1, or 2 for a duplicate.
        copies: u8,
        /// How long it is held back.
        delay: Duration,
    },
}

/// A request held back by `delay=MS`.
pub struct Delayed {
    /// When it is processed.
    pub due: Instant,
    /// Transport number.
    pub transport: u8,
    /// Where its responses go.
    pub peer: Peer,
    /// The request.
    pub data: Vec<u8>,
}

/// The faults of a device and the generator that decides them.
pub struct Faults {
    drop: f64,
    duplicate: f64,
    delay: Duration,
    state: u64,
    /// Requests held back, in arrival order (one delay for all keeps them in order).
    pub delayed: VecDeque<Delayed>,
}

impl Faults {
    /// Faults from the `--fault` options (later options of a kind win), or `None` when
    /// there are none.
    pub fn new(faults: &[Fault], seed: u64) -> Option<Self> {
        if faults.is_empty() {
            return None;
        }
        let mut f = Faults {
            drop: 0.0,
            duplicate: 0.0,
            delay: Duration::ZERO,
            state: seed,
            delayed: VecDeque::new(),
        };
        for fault in faults {
            match *fault {
                Fault::Drop(p) => f.drop = p,
                Fault::Duplicate(p) => f.duplicate = p,
                Fault::Delay(d) => f.delay = d,
            }
        }
        Some(f)
    }

    /// splitmix64: a well-mixed 64-bit sequence from any seed.
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// True with probability `pct` %.
    fn roll(&mut self, pct: f64) -> bool {
        // 53 random bits as a uniform value in [0, 100).
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64 * 100.0;
        u < pct
    }

    /// Decides the fate of the next request (both rolls are always made, so the sequence
    /// of decisions depends only on the seed and the number of requests).
    pub fn decide(&mut self) -> Fate {
        let dropped = self.roll(self.drop);
        let duplicated = self.roll(self.duplicate);
        if dropped {
            Fate::Dropped
        } else {
            Fate::Delivered {
                copies: if duplicated { 2 } else { 1 },
                delay: self.delay,
            }
        }
    }

    /// When the first held-back request is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.delayed.front().map(|d| d.due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_and_refuses_nonsense() {
        assert_eq!("drop=20%".parse::<Fault>(), Ok(Fault::Drop(20.0)));
        assert_eq!("duplicate=5".parse::<Fault>(), Ok(Fault::Duplicate(5.0)));
        assert_eq!(
            "delay=150".parse::<Fault>(),
            Ok(Fault::Delay(Duration::from_millis(150)))
        );
        for bad in [
            "drop=101%",
            "drop=-1%",
            "drop",
            "delay=x",
            "corrupt=1%",
            "drop=%",
        ] {
            assert!(bad.parse::<Fault>().is_err(), "{bad}");
        }
        assert_eq!(Fault::Drop(12.5).to_string(), "drop=12.5%");
    }

    #[test]
    fn decisions_follow_the_seed_and_the_rates() {
        let run = |seed| {
            let mut f = Faults::new(&[Fault::Drop(30.0), Fault::Duplicate(10.0)], seed).unwrap();
            (0..10_000).map(|_| f.decide()).collect::<Vec<_>>()
        };
        let a = run(7);
        assert_eq!(a, run(7), "same seed, same decisions");
        assert_ne!(a, run(8), "another seed, other decisions");
        let dropped = a.iter().filter(|f| **f == Fate::Dropped).count();
        let doubled = a
            .iter()
            .filter(|f| matches!(f, Fate::Delivered { copies: 2, .. }))
            .count();
        // 3000 and 700 expected (10 % of the 70 % delivered); bounds far beyond chance.
        assert!((2700..3300).contains(&dropped), "{dropped}");
        assert!((550..850).contains(&doubled), "{doubled}");
    }

    #[test]
    fn none_without_options_and_zero_rates_change_nothing() {
        assert!(Faults::new(&[], 1).is_none());
        let mut f = Faults::new(&[Fault::Drop(0.0)], 1).unwrap();
        assert!((0..1000).all(|_| f.decide()
            == Fate::Delivered {
                copies: 1,
                delay: Duration::ZERO
            }));
        let mut f = Faults::new(&[Fault::Drop(100.0)], 1).unwrap();
        assert!((0..1000).all(|_| f.decide() == Fate::Dropped));
    }
}
