//! `version-tag`: a test fixture for hot swaps. Appends `|` and its tag to every
//! value: `a` by default, `b` when built with the `tag-b` feature. `tests/build.rs`
//! builds both (`version_tag.wasm`, `version_tag_b.wasm`), two versions of one plugin
//! whose output says which of them processed each event.

use serde::Deserialize;
use weir_sdk::{Error, Event, Map};

/// The tag this build appends.
const TAG: &[u8] = if cfg!(feature = "tag-b") { b"b" } else { b"a" };

#[derive(Deserialize)]
struct VersionTag {}

impl Map for VersionTag {
    fn map(&mut self, event: &Event<'_>, value: &mut Vec<u8>) -> Result<(), Error> {
        value.extend_from_slice(event.value);
        value.push(b'|');
        value.extend_from_slice(TAG);
        Ok(())
    }
}

weir_sdk::export_map!(VersionTag);
