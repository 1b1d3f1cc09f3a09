//! `trap-on-marker`: a test fixture. Panics (a Wasm trap) on marked events.
//!
//! Settings: `marker` (default `"poison"`). Events whose value does not contain the
//! marker pass through unchanged, so a test can check that they still arrive.

use serde::Deserialize;
use weir_sdk::{Error, Event, Map};

#[derive(Deserialize)]
struct Fixture {
    #[serde(default = "default_marker")]
    marker: String,
}

fn default_marker() -> String {
    "poison".to_owned()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

impl Map for Fixture {
    fn map(&mut self, event: &Event<'_>, value: &mut Vec<u8>) -> Result<(), Error> {
        if contains(event.value, self.marker.as_bytes()) {
            panic!("poisoned event: the fixture traps here");
        }
        value.extend_from_slice(event.value);
        Ok(())
    }
}

weir_sdk::export_map!(Fixture);
