//! Host side of `weir:operator/log`: plugin log records into the host's `tracing` log.

use super::bindings::GuestLogLevel;
use super::bindings::weir::operator::log::Host;
use super::store::HostCtx;

/// Longest message kept; the rest is cut (the guest controls the length).
const MAX_MESSAGE: usize = 4096;

impl Host for HostCtx {
    fn log(&mut self, level: GuestLogLevel, message: String) {
        let mut end = message.len().min(MAX_MESSAGE);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let message = &message[..end];
        let operator = &*self.operator;
        match level {
            GuestLogLevel::Trace => tracing::trace!(target: "weir::plugin", operator, "{message}"),
            GuestLogLevel::Debug => tracing::debug!(target: "weir::plugin", operator, "{message}"),
            GuestLogLevel::Info => tracing::info!(target: "weir::plugin", operator, "{message}"),
            GuestLogLevel::Warn => tracing::warn!(target: "weir::plugin", operator, "{message}"),
            GuestLogLevel::Error => tracing::error!(target: "weir::plugin", operator, "{message}"),
        }
    }
}
