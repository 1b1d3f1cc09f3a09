//! Assertions on a harness's outputs with readable diffs, and windows written as in a
//! pipeline file.

use serde_json::Value;
use weir_host::config::window::WindowSection;
use weir_host::harness::Harness;
use weir_host::harness::diff::render_diff;
use weir_host::window::spec::WindowSpec;

/// The values emitted to `output` so far, compared with `expected` (JSON values; a
/// value that is not JSON compares as a JSON string of its text): `None` when equal,
/// otherwise the diff, `-` for expected lines and `+` for actual ones.
pub fn diff_output(harness: &Harness, output: &str, expected: &[Value]) -> Option<String> {
    let actual: Vec<String> = harness
        .outputs_of(output)
        .iter()
        .map(|record| {
            record
                .json()
                .unwrap_or_else(|| Value::String(String::from_utf8_lossy(&record.value).into()))
                .to_string()
        })
        .collect();
    let expected: Vec<String> = expected.iter().map(Value::to_string).collect();
    if actual == expected {
        return None;
    }
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    let actual: Vec<&str> = actual.iter().map(String::as_str).collect();
    Some(render_diff(&expected, &actual))
}

/// Asserts that the values emitted to `output` are `expected`, in order.
///
/// # Panics
/// When they differ, with the diff.
#[track_caller]
pub fn assert_output(harness: &Harness, output: &str, expected: &[Value]) {
    if let Some(diff) = diff_output(harness, output, expected) {
        panic!("output `{output}` differs (- expected, + actual):\n{diff}");
    }
}

/// A window written as a pipeline's `[operator.window]` table, e.g.
/// `type = "tumbling"\nsize_ms = 1000`.
///
/// ```
/// let window = weir_harness::window_from_toml("type = \"sliding\"\nsize_ms = 10\nslide_ms = 5")?;
/// assert_eq!(window.allowed_lateness_ms, 0);
/// # Ok::<(), String>(())
/// ```
///
/// # Errors
/// What is wrong with it.
pub fn window_from_toml(text: &str) -> Result<WindowSpec, String> {
    let section: WindowSection = toml::from_str(text).map_err(|error| error.to_string())?;
    section
        .to_spec()
        .map_err(|(key, why)| format!("`{key}`: {why}"))
}
