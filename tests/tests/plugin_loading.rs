//! Loading plugins through the real engine: the compile cache, and the refusals a
//! broken plugin gets at start, each naming the plugin, the file and the cause.

use weir_host::plugin::{CacheOutcome, PluginError, PluginLimits, PluginSpec};
use weir_tests::{loader, plugin};

fn spec(operator: &str, path: std::path::PathBuf, settings: &str) -> PluginSpec {
    PluginSpec {
        operator: operator.into(),
        path,
        settings_json: settings.into(),
        limits: PluginLimits::default(),
    }
}

#[test]
fn a_second_load_comes_from_the_compile_cache() {
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = r#"{"field":"amount","value":1}"#;
    let first = loader(dir.path())
        .load(spec("f", plugin("json-filter"), settings))
        .expect("loads");
    assert_eq!(first.cache_outcome(), CacheOutcome::Compiled);
    // A new loader (a new engine, as after a restart) finds the compiled artifact.
    let second = loader(dir.path())
        .load(spec("f", plugin("json-filter"), settings))
        .expect("loads");
    assert_eq!(second.cache_outcome(), CacheOutcome::Hit);
    assert_eq!(second.identity().name, "json-filter");
    assert_eq!(second.identity().version, "0.1.0");
    assert_eq!(first.identity(), second.identity());
    assert_eq!(second.identity().content_hash.len(), 64);
}

#[test]
fn a_corrupt_cache_entry_is_recompiled() {
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = r#"{"field":"amount","value":1}"#;
    loader(dir.path())
        .load(spec("f", plugin("json-filter"), settings))
        .expect("loads");
    for entry in std::fs::read_dir(dir.path()).expect("cache dir") {
        std::fs::write(entry.expect("entry").path(), b"garbage").expect("corrupt it");
    }
    let again = loader(dir.path())
        .load(spec("f", plugin("json-filter"), settings))
        .expect("loads");
    assert_eq!(again.cache_outcome(), CacheOutcome::Compiled);
}

#[test]
fn declared_outputs_are_known_after_load() {
    let dir = tempfile::tempdir().expect("temp dir");
    let enrich = loader(dir.path())
        .load(spec("e", plugin("enrich"), "{}"))
        .expect("loads");
    assert_eq!(enrich.identity().outputs, vec!["alerts".to_owned()]);
}

#[test]
fn an_unsatisfiable_import_is_refused_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let error = loader(dir.path())
        .load(spec("telepathic", plugin("bad-import"), "{}"))
        .expect_err("the host has no mind reader");
    assert!(
        matches!(error, PluginError::MissingImport { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("telepathic"),
        "names the operator: {message}"
    );
    assert!(
        message.contains("bad_import.wasm"),
        "names the file: {message}"
    );
    assert!(
        message.contains("weir-fixtures:telepathy/mind-reader"),
        "names the import: {message}"
    );
}

#[test]
fn a_failing_init_is_refused_with_the_plugins_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let error = loader(dir.path())
        .load(spec("big", plugin("json-filter"), r#"{"field":"amount"}"#))
        .expect_err("`value` is missing");
    let message = error.to_string();
    assert!(matches!(error, PluginError::Init { .. }), "{error:?}");
    assert!(message.contains("operator `big`"), "{message}");
    assert!(message.contains("json_filter.wasm"), "{message}");
    assert!(
        message.contains("missing field `value`"),
        "the plugin's own reason: {message}"
    );
}

#[test]
fn garbage_and_core_modules_are_not_components() {
    let dir = tempfile::tempdir().expect("temp dir");
    let loader = loader(dir.path());
    let garbage = dir.path().join("garbage.wasm");
    std::fs::write(&garbage, b"this is not wasm at all").expect("write");
    let error = loader.load(spec("g", garbage, "{}")).expect_err("garbage");
    assert!(error.to_string().contains("magic number"), "{error}");

    let core = dir.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").expect("write");
    let error = loader.load(spec("c", core, "{}")).expect_err("core module");
    assert!(error.to_string().contains("core Wasm module"), "{error}");

    let missing = dir.path().join("missing.wasm");
    let error = loader.load(spec("m", missing, "{}")).expect_err("no file");
    assert!(matches!(error, PluginError::Read { .. }), "{error:?}");
}
