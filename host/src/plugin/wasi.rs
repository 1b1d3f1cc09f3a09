//! WASI for plugins: linked so that components built by standard toolchains load, with
//! nothing granted. No files, sockets, name lookups, environment or arguments; stdin is
//! empty; stdout and stderr go line by line into the host's log, tagged with the
//! operator. Clocks read a fixed instant and randomness is a fixed sequence per
//! operator, so a replay of the same input gives the same output.

use std::time::Duration;

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{Deterministic, HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder};

/// Longest line a plugin can print before the host cuts it.
const MAX_LINE: usize = 4096;

/// Builds the WASI context of one instance of `operator`.
pub(crate) fn deny_all_context(operator: &str, seed: u64) -> WasiCtx {
    let mut builder = WasiCtxBuilder::new();
    builder
        .stdout(LogStream::new(operator, "stdout"))
        .stderr(LogStream::new(operator, "stderr"))
        .wall_clock(FixedClock)
        .monotonic_clock(FixedClock)
        .secure_random(Deterministic::new(random_bytes(seed)))
        .insecure_random(Deterministic::new(random_bytes(seed ^ 0x5bd1_e995)))
        .insecure_random_seed(u128::from(seed))
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .socket_addr_check(|_, _| Box::pin(async { false }));
    builder.build()
}

/// 256 bytes from a SplitMix64 sequence: the cycle `Deterministic` repeats.
fn random_bytes(seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..32)
        .flat_map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)).to_le_bytes()
        })
        .collect()
}

/// Wall and monotonic clocks that always read 0: operators see event time only.
struct FixedClock;

impl HostWallClock for FixedClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FixedClock {
    fn resolution(&self) -> u64 {
        1_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// A plugin's stdout or stderr, written to the host log one line at a time.
#[derive(Clone)]
struct LogStream {
    operator: std::sync::Arc<str>,
    stream: &'static str,
}

impl LogStream {
    fn new(operator: &str, stream: &'static str) -> Self {
        LogStream {
            operator: operator.into(),
            stream,
        }
    }
}

impl IsTerminal for LogStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogStream {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(LineWriter {
            target: self.clone(),
            pending: Vec::new(),
        })
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(tokio::io::sink())
    }
}

/// Buffers bytes until a newline, then logs the line.
struct LineWriter {
    target: LogStream,
    pending: Vec<u8>,
}

impl LineWriter {
    fn emit(&mut self, line: &[u8]) {
        let text = String::from_utf8_lossy(&line[..line.len().min(MAX_LINE)]);
        let text = text.trim_end_matches(['\r', '\n']);
        tracing::info!(
            target: "weir::plugin",
            operator = %self.target.operator,
            stream = self.target.stream,
            "{text}"
        );
    }
}

impl OutputStream for LineWriter {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.pending.extend_from_slice(&bytes);
        while let Some(newline) = self.pending.iter().position(|byte| *byte == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=newline).collect();
            self.emit(&line);
        }
        if self.pending.len() > MAX_LINE {
            let line = std::mem::take(&mut self.pending);
            self.emit(&line);
        }
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.emit(&line);
        }
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for LineWriter {
    async fn ready(&mut self) {}
}
