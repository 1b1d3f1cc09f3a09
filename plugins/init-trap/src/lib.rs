//! `init-trap`: a test fixture. Panics (a Wasm trap) in `init`, so it never starts: a
//! deployment the host must refuse while the running version keeps serving.

use weir_sdk::{Batch, Error, Output, Processor, Settings};

struct InitTrap;

impl Processor for InitTrap {
    fn init(_settings: Settings) -> Result<Self, Error> {
        panic!("init-trap: this fixture traps in init");
    }

    fn process(&mut self, _batch: &Batch, _out: &mut Output) -> Result<(), Error> {
        Ok(())
    }
}

weir_sdk::export_processor!(InitTrap);
