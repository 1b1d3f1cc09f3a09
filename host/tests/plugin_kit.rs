//! The plugin author's kit end to end, through the `weir` binary: for every language
//! of [`LANGS`] and every kind with a template, `weir new` makes a project, `weir
//! build` builds it, and `weir test` (also with `--restart-check`) passes its shipped
//! test case. Then a new version of the keyed Rust template is swapped in mid-test by
//! the harness, keeping its state.
//!
//! Generated projects build in one shared target directory (`target/plugin-kit`), so
//! their dependencies compile once; cargo runs offline, from the crates the
//! workspace's own build fetched.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use weir_host::harness::project::ProjectKind;
use weir_host::harness::{Harness, HarnessConfig, InputEvent};

/// A language with templates in `sdk/templates/<name>/`, and the programs its build
/// needs — on `PATH`, or a path in the workspace (`.tools/…`): without them the
/// language is skipped (and the test fails when `CI` is set, since
/// `scripts/install-deps` installs them there).
struct Lang {
    name: &'static str,
    tools: &'static [&'static str],
}

/// The languages under test: add one line per language.
const LANGS: &[Lang] = &[
    Lang {
        name: "rust",
        tools: &["cargo"],
    },
    Lang {
        name: "python",
        tools: &[".tools/venv/bin/componentize-py"],
    },
    Lang {
        name: "js",
        tools: &[".tools/node/node_modules/.bin/jco"],
    },
    Lang {
        name: "c",
        tools: &[".tools/venv/bin/python"],
    },
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ has a parent")
        .to_path_buf()
}

/// Whether `tool` (a program name, or a path in the workspace) is there.
fn installed(tool: &str) -> bool {
    if tool.contains('/') {
        return workspace().join(tool).is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}

/// Runs `weir ARGS`; panics with its output unless it succeeds.
fn weir(args: &[&str]) -> String {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_weir"));
    command
        .args(args)
        .env("CARGO_TARGET_DIR", target.join("plugin-kit"))
        .env("CARGO_NET_OFFLINE", "true")
        .env(
            "WEIR_CACHE_DIR",
            std::env::temp_dir().join("weir-plugin-kit-cache"),
        );
    for variable in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_TARGET"] {
        command.env_remove(variable);
    }
    let output = command.output().expect("weir runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "weir {args:?} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn path(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp paths")
}

#[test]
fn every_template_builds_and_passes_its_test_case() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sdk = workspace().join("sdk");
    let templates = sdk.join("templates");
    let mut tested = 0;
    for lang in LANGS {
        if let Some(missing) = lang.tools.iter().find(|tool| !installed(tool)) {
            assert!(
                std::env::var_os("CI").is_none(),
                "{}: `{missing}` is not installed (scripts/install-deps installs it)",
                lang.name
            );
            eprintln!("skipping {}: `{missing}` is not installed", lang.name);
            continue;
        }
        for kind in ProjectKind::ALL {
            if !templates.join(lang.name).join(kind.name()).is_dir() {
                continue;
            }
            let name = format!("kit-{}-{}", lang.name, kind.name());
            weir(&[
                "new",
                "--lang",
                lang.name,
                "--kind",
                kind.name(),
                &name,
                "--dir",
                path(dir.path()),
                "--sdk",
                path(&sdk),
            ]);
            let project = dir.path().join(&name);
            let built = weir(&["build", path(&project)]);
            assert!(
                built.contains(&format!("world {}", kind.plugin_kind().world())),
                "{built}"
            );
            let tested_out = weir(&["test", path(&project), "--restart-check"]);
            assert!(tested_out.contains("1 test case passed"), "{tested_out}");
            tested += 1;
        }
    }
    assert!(tested >= 4, "the four Rust templates at least");
    if std::env::var_os("CI").is_some() {
        assert_eq!(tested, 16, "every kind in every language, in CI");
    }
    version_swap_keeps_state(&dir.path().join("kit-rust-keyed"));
}

/// Version 2 of the keyed template (its output says so) is swapped in after three
/// events: the count goes on from the host's state.
fn version_swap_keeps_state(v1: &Path) {
    let v2 = v1.with_file_name("kit-rust-keyed-v2");
    weir(&[
        "new",
        "--lang",
        "rust",
        "--kind",
        "keyed",
        "kit-rust-keyed-v2",
        "--dir",
        path(v2.parent().expect("a parent")),
        "--sdk",
        path(&workspace().join("sdk")),
    ]);
    let source = v2.join("src/lib.rs");
    let text = std::fs::read_to_string(&source).expect("the template's source");
    let changed = text.replace(
        r#"json!({ "key": key_text(ctx), "count": count })"#,
        r#"json!({ "key": key_text(ctx), "count": count, "version": 2 })"#,
    );
    assert_ne!(
        text, changed,
        "the template still emits what this test changes"
    );
    std::fs::write(&source, changed).expect("write v2");
    weir(&["build", path(&v2)]);

    let mut config = HarnessConfig::new(v1.join("build/kit_rust_keyed.wasm"));
    config.key_by = Some("user".into());
    config.cache_dir = Some(std::env::temp_dir().join("weir-plugin-kit-cache"));
    let mut harness = Harness::new(config).expect("v1 loads");
    let ann = |time| InputEvent::new(json!({ "user": "ann" }).to_string(), time);
    harness.process(&[ann(1), ann(2), ann(3)]).expect("v1 runs");
    harness
        .swap_component(&v2.join("build/kit_rust_keyed_v2.wasm"))
        .expect("v2 swaps in");
    harness.process(&[ann(4)]).expect("v2 runs");
    let main: Vec<Value> = harness
        .outputs_of("main")
        .iter()
        .filter_map(|output| output.json())
        .collect();
    assert_eq!(
        main,
        [
            json!({ "key": "ann", "count": 1 }),
            json!({ "key": "ann", "count": 2 }),
            json!({ "key": "ann", "count": 3 }),
            json!({ "key": "ann", "count": 4, "version": 2 }),
        ]
    );
}
