//! Function libraries: FUNCTION LOAD/LIST/DELETE/FLUSH/DUMP/RESTORE/STATS and FCALL.

use crate::engine::EngineConfig;

/// FUNCTION RESTORE's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LibraryMode {
    /// Fail if any library exists.
    Flush,
    /// Add, failing on a name clash.
    Append,
    /// Replace libraries of the same name.
    Replace,
}

/// Counts for FUNCTION STATS and INFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FunctionStats {
    /// Libraries loaded.
    pub libraries: usize,
    /// Functions in them.
    pub functions: usize,
}

pub(crate) struct Functions {}

impl Functions {
    pub(crate) fn new(_config: &EngineConfig) -> Self {
        Functions {}
    }
}
