//! Per-instance resource limits: the memory cap a [`wasmtime::ResourceLimiter`]
//! enforces, and the record of whether the cap was hit (so a trap that follows can be
//! reported as "out of memory" rather than as a bare `unreachable`).

use wasmtime::ResourceLimiter;

/// Default memory cap per plugin instance.
pub const DEFAULT_MEMORY_LIMIT: usize = 64 << 20;

/// Caps the linear memory and tables one instance may grow to.
#[derive(Debug, Clone)]
pub struct MemoryLimiter {
    limit_bytes: usize,
    hit: bool,
    in_use: usize,
}

impl MemoryLimiter {
    pub fn new(limit_bytes: usize) -> Self {
        MemoryLimiter {
            limit_bytes,
            hit: false,
            in_use: 0,
        }
    }

    pub fn limit_bytes(&self) -> usize {
        self.limit_bytes
    }

    /// Whether a growth was refused since the last [`MemoryLimiter::clear_hit`].
    pub fn was_hit(&self) -> bool {
        self.hit
    }

    pub fn clear_hit(&mut self) {
        self.hit = false;
    }

    /// Bytes of linear memory the instance has grown to.
    pub fn in_use(&self) -> usize {
        self.in_use
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit_bytes {
            self.hit = true;
            return Ok(false);
        }
        self.in_use = desired;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // A table entry is a pointer; 1 M entries is far beyond any real plugin.
        Ok(desired <= 1 << 20)
    }
}
