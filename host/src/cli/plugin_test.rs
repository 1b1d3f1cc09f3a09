//! `weir test`: runs plugin test cases through the harness and compares their outputs
//! with the expected files; exit code 0 when every case passes, 1 otherwise.
//!
//! ```text
//! weir test [PROJECT_DIR]                         every tests/NAME.input.jsonl of a project
//! weir test --component X.wasm --kind K --input I --expected E [--settings JSON]
//!           [--key-by FIELD] [--window '{ type = "tumbling", size_ms = 1000 }']
//! --update           write the actual outputs into the expected files
//! --restart-check    also run each case with a snapshot and restore after every step,
//!                    which must not change the output
//! ```

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use weir_host::config::window::WindowSection;
use weir_host::harness::HarnessConfig;
use weir_host::harness::project::{Project, ProjectKind};
use weir_host::harness::script::{CaseOutcome, RunMode, run_case};

/// `weir test`'s arguments.
#[derive(Args, Debug)]
pub struct TestArgs {
    /// The plugin project (holding weir-project.toml); default: the current directory.
    project: Option<PathBuf>,
    /// Test this component instead of a project's (with --kind, --input, --expected).
    #[arg(long, requires_all = ["kind", "input"], conflicts_with = "project")]
    component: Option<PathBuf>,
    /// The component's kind: map, keyed, aggregate or window.
    #[arg(long, value_parser = ProjectKind::parse)]
    kind: Option<ProjectKind>,
    /// The input file (JSON lines: events and time controls).
    #[arg(long, requires = "component")]
    input: Option<PathBuf>,
    /// The expected file (default: the input's name with `.expected.jsonl`).
    #[arg(long, requires = "component")]
    expected: Option<PathBuf>,
    /// Settings for the plugin's `init`, a JSON object.
    #[arg(long, requires = "component", default_value = "{}")]
    settings: String,
    /// `key_by`: a field path or `$key`.
    #[arg(long, requires = "component")]
    key_by: Option<String>,
    /// The window of a window kind, as a TOML inline table shaped like a pipeline's
    /// `[operator.window]`.
    #[arg(long, requires = "component")]
    window: Option<String>,
    /// Write the actual outputs into the expected files.
    #[arg(long)]
    update: bool,
    /// Also run each case restoring from a snapshot after every step: the output must
    /// be the same (state kept in plugin memory shows up here).
    #[arg(long)]
    restart_check: bool,
    /// Where compiled components are cached.
    #[arg(long)]
    cache_dir: Option<PathBuf>,
}

/// Runs `weir test`.
///
/// # Errors
/// When a case fails (its diff is printed first) or cannot run.
pub fn run(args: TestArgs) -> anyhow::Result<()> {
    let (mut config, cases) = match &args.component {
        Some(component) => single_case(&args, component)?,
        None => {
            let dir = args.project.clone().unwrap_or_else(|| PathBuf::from("."));
            let project = Project::load(&dir)?;
            let cases = project.cases()?;
            if cases.is_empty() {
                bail!(
                    "{} has no test cases (tests/NAME.input.jsonl)",
                    dir.join("tests").display()
                );
            }
            (project.harness_config()?, cases)
        }
    };
    config.cache_dir = args.cache_dir.clone().or(config.cache_dir);
    let mut failed = 0;
    for (input, expected) in &cases {
        let outcome = run_case(&config, input, expected, RunMode::AsWritten)
            .with_context(|| format!("case {}", input.display()))?;
        if args.update {
            std::fs::write(expected, outcome.actual_file())
                .with_context(|| format!("writing {}", expected.display()))?;
            println!(
                "updated {} ({} lines)",
                expected.display(),
                outcome.actual.len()
            );
        } else if !report(&outcome, "") {
            failed += 1;
            continue;
        }
        if args.restart_check {
            let mut restarted = run_case(&config, input, expected, RunMode::RestartAfterEveryStep)
                .with_context(|| format!("case {} with restarts", input.display()))?;
            restarted.expected = outcome.actual.clone();
            if !report(
                &restarted,
                " (restored after every step; - straight run, + restored)",
            ) {
                failed += 1;
            }
        }
    }
    let total = cases.len();
    if failed > 0 {
        bail!("{failed} of {total} test cases failed");
    }
    if !args.update {
        println!(
            "{total} test case{} passed",
            if total == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

/// Prints a case's result; whether it passed.
fn report(outcome: &CaseOutcome, what: &str) -> bool {
    if outcome.passed() {
        println!(
            "ok   {}{what} ({} lines)",
            outcome.name,
            outcome.actual.len()
        );
        return true;
    }
    println!(
        "FAIL {}{what}: the output differs from {} (- expected, + actual):\n{}",
        outcome.name,
        outcome.expected_path.display(),
        outcome.diff()
    );
    false
}

type Cases = Vec<(PathBuf, PathBuf)>;

fn single_case(
    args: &TestArgs,
    component: &std::path::Path,
) -> anyhow::Result<(HarnessConfig, Cases)> {
    let kind = args.kind.context("--component needs --kind")?;
    let input = args.input.clone().context("--component needs --input")?;
    let expected = args.expected.clone().unwrap_or_else(|| {
        let name = weir_host::harness::script::case_name(&input);
        input.with_file_name(format!("{name}.expected.jsonl"))
    });
    let mut config = HarnessConfig::new(component);
    config.kind = Some(kind.plugin_kind());
    let settings: serde_json::Value =
        serde_json::from_str(&args.settings).context("--settings is not JSON")?;
    if !settings.is_object() {
        bail!("--settings takes a JSON object");
    }
    config.settings_json = settings.to_string();
    config.key_by = args.key_by.clone();
    if let Some(window) = &args.window {
        let section: WindowSection = toml::from_str::<toml::Table>(&format!("window = {window}"))
            .context("--window is not a TOML inline table")?
            .remove("window")
            .context("--window")?
            .try_into()
            .context("--window")?;
        let spec = section
            .to_spec()
            .map_err(|(key, why)| anyhow::anyhow!("--window `{key}`: {why}"))?;
        config.window = Some(spec);
    }
    Ok((config, vec![(input, expected)]))
}
