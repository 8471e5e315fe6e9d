//! [`FakeStats`]: two statistics groups.

use crate::server::Error;

/// Two statistics groups: `smp_svr_stats` (`ticks`), as the sample registers, and `big`
/// (`wide`, a 64-bit counter).
#[derive(Debug, Clone, Default)]
pub struct FakeStats {
    /// `smp_svr_stats.ticks`.
    pub ticks: u32,
    /// `big.wide`.
    pub big: u64,
}

impl crate::platform::Stats for FakeStats {
    fn groups(&mut self, f: &mut dyn FnMut(&str) -> Result<(), Error>) -> Result<(), Error> {
        f("smp_svr_stats")?;
        f("big")
    }

    fn counters(
        &mut self,
        group: &str,
        f: &mut dyn FnMut(&str, u64) -> Result<(), Error>,
    ) -> Result<bool, Error> {
        match group {
            "smp_svr_stats" => f("ticks", self.ticks.into())?,
            "big" => f("wide", self.big)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}
