//! Test fixture: a processor that imports `weir-fixtures:telepathy/mind-reader`, which
//! no host provides. Loading it must fail with a message naming that import.

wit_bindgen::generate!({
    path: ["../../wit", "wit"],
    world: "weir-fixtures:telepathy/bad-import",
    generate_all,
});

use exports::weir::operator::processor::Guest;
use weir::operator::types::{Batch, Error, Outputs, PluginInfo};

struct BadImport;

impl Guest for BadImport {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "bad-import".into(),
            version: "0.1.0".into(),
            outputs: Vec::new(),
        }
    }

    fn init(_settings: String) -> Result<(), Error> {
        Ok(())
    }

    fn process(batch: Batch) -> Result<Outputs, Error> {
        let _thought = weir_fixtures::telepathy::mind_reader::read_mind();
        Ok(Outputs {
            main: batch,
            named: Vec::new(),
            rejected: Vec::new(),
        })
    }
}

export!(BadImport);
