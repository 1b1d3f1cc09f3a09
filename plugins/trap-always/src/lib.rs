//! `trap-always`: a test fixture. Panics (a Wasm trap) on every event, so every batch
//! fails: a deployed version the host must roll back on its own.

use serde::Deserialize;
use weir_sdk::{Error, Event, Map};

#[derive(Deserialize)]
struct TrapAlways {}

impl Map for TrapAlways {
    fn map(&mut self, _event: &Event<'_>, _value: &mut Vec<u8>) -> Result<(), Error> {
        panic!("trap-always: this fixture traps on every event");
    }
}

weir_sdk::export_map!(TrapAlways);
