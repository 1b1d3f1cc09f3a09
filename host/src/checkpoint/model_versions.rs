//! The versions of the models each operator runs, recorded in a checkpoint's
//! `_metadata` (per plugin entry: model name → SHA-256 of the file), and the models
//! that changed since the checkpoint a run restores, logged at start: a model is a
//! version like a plugin, replaced by a new file at a restart with the keyed state
//! carried over.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::metadata::PluginEntry;
use crate::plugin::cache::content_hash;

/// The content hash of each granted model file (a file that cannot be read is left
/// out: loading the pipeline has reported it already).
pub fn model_versions(models: &BTreeMap<String, PathBuf>) -> BTreeMap<String, String> {
    models
        .iter()
        .filter_map(|(name, path)| {
            std::fs::read(path)
                .ok()
                .map(|bytes| (name.clone(), content_hash(&bytes)))
        })
        .collect()
}

/// The models of `now` whose version differs from the one in `before` (the restored
/// checkpoint's entries): `(operator, model, old hash, new hash)`.
pub fn changed_models(
    before: &[PluginEntry],
    now: &[PluginEntry],
) -> Vec<(String, String, String, String)> {
    let mut changed = Vec::new();
    for entry in now {
        let Some(old) = before.iter().find(|old| old.operator == entry.operator) else {
            continue;
        };
        for (name, hash) in &entry.models {
            if let Some(old_hash) = old.models.get(name).filter(|old_hash| *old_hash != hash) {
                changed.push((
                    entry.operator.clone(),
                    name.clone(),
                    old_hash.clone(),
                    hash.clone(),
                ));
            }
        }
    }
    changed
}

/// Logs each model that changed since the restored checkpoint.
pub fn log_changed_models(before: &[PluginEntry], now: &[PluginEntry]) {
    for (operator, model, old, new) in changed_models(before, now) {
        tracing::info!(
            target: "weir::checkpoint",
            operator = %operator,
            model = %model,
            "model version {} replaces {} of the checkpoint; the keyed state carries over",
            &new[..12.min(new.len())],
            &old[..12.min(old.len())],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(operator: &str, models: &[(&str, &str)]) -> PluginEntry {
        PluginEntry {
            operator: operator.into(),
            identity: "p@0.1.0+abc".into(),
            file: PathBuf::from("p.wasm"),
            models: models
                .iter()
                .map(|(name, hash)| ((*name).to_owned(), (*hash).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn only_models_whose_hash_changed_are_reported() {
        let before = [entry("score", &[("fraud", "aaa"), ("other", "bbb")])];
        let now = [
            entry(
                "score",
                &[("fraud", "ccc"), ("other", "bbb"), ("new", "ddd")],
            ),
            entry("elsewhere", &[("fraud", "eee")]),
        ];
        assert_eq!(
            changed_models(&before, &now),
            [("score".into(), "fraud".into(), "aaa".into(), "ccc".into())]
        );
    }
}
