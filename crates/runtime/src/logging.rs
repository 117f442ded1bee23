//! The server log's verbosity: `loglevel`, kept in one atomic that the binary's log filter
//! reads for every event, so `CONFIG SET loglevel` takes effect at once. This module owns only
//! the level; where and how lines are written is the binary's business.

use std::sync::atomic::{AtomicU8, Ordering};

use tracing::Level;

/// Redis's levels, most verbose first; `nothing` logs nothing.
const LEVELS: &[&str] = &["debug", "verbose", "notice", "warning", "nothing"];

/// The index in [`LEVELS`] of the level set; `notice` until the config says otherwise.
static LEVEL: AtomicU8 = AtomicU8::new(2);

/// Sets the level from `loglevel`'s value (an unknown word leaves it as it was; the config
/// has checked it).
pub fn set_level(name: &str) {
    if let Some(i) = LEVELS.iter().position(|l| *l == name) {
        LEVEL.store(i as u8, Ordering::Relaxed);
    }
}

/// The Redis level a `tracing` level stands for: TRACE is `debug`, DEBUG `verbose`, INFO
/// `notice`, WARN and ERROR `warning`.
pub fn redis_level(level: &Level) -> usize {
    match *level {
        Level::TRACE => 0,
        Level::DEBUG => 1,
        Level::INFO => 2,
        _ => 3,
    }
}

/// Whether an event at `level` is logged under the current `loglevel`.
pub fn enabled(level: &Level) -> bool {
    redis_level(level) >= LEVEL.load(Ordering::Relaxed) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loglevel_maps_onto_tracing_levels() {
        set_level("warning");
        assert!(!enabled(&Level::INFO) && enabled(&Level::WARN) && enabled(&Level::ERROR));
        set_level("debug");
        assert!(enabled(&Level::TRACE));
        set_level("nothing");
        assert!(!enabled(&Level::ERROR));
        set_level("notice");
        assert!(enabled(&Level::INFO) && !enabled(&Level::DEBUG));
    }
}
