//! Hot deployment under load, with real components: `version-tag` built twice (tags
//! `a` and `b`) swapped 50 times while a generator streams, through the admin API
//! over HTTP and through the watched directory. Every generated event must come out
//! exactly once, tagged by the version that was active at the barrier before it (the
//! swap reports how many events the source had sent before that barrier). Also:
//! refused versions (garbage, core module, wrong world, missing import, trap in
//! `init`) while the old version keeps serving, automatic rollback of a version that
//! traps on every batch, and the API's authentication and name checks.
//!
//! [`stateful`]: swaps whose state must carry over, a window aggregate's accumulators
//! and an operator's ONNX model.

mod stateful;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use weir_host::admin::client::AdminClient;
use weir_host::admin::routes::{AdminRequest, AdminRoutes};
use weir_host::admin::server::{AdminServer, serve};
use weir_host::config;
use weir_host::deploy::watcher::watch;
use weir_host::deploy::{
    DeployError, Deployer, PluginName, Registry, RollbackPolicy, VersionStatus,
};
use weir_host::runtime::assemble::assemble_deployable;
use weir_host::runtime::pipeline::{RunOptions, RunReport};
use weir_tests::{loader, plugin};

const TOKEN: &str = "test-token-0123456789";

/// A pipeline `name` of `count` generated events at `rate` per second (`source_extra`:
/// more of `[source]`) through `operator` (its `[[operator]]` table), into
/// `out.jsonl`; dead letters in `dead.jsonl`.
fn generated_pipeline(
    name: &str,
    count: u64,
    rate: u64,
    source_extra: &str,
    operator: &str,
) -> String {
    format!(
        r#"
name = "{name}"
[runtime]
batch_size = 256
channel_capacity = 4

[source]
type = "generator"
count = {count}
rate = {rate}.0
{source_extra}

{operator}

[[sink]]
type = "file"
path = "out.jsonl"

[dead_letter]
type = "file"
path = "dead.jsonl"
"#
    )
}

/// `count` generated events at `rate` per second through `version-tag` (tag `a`)
/// with `parallelism` subtasks.
fn pipeline_text(count: u64, rate: u64, parallelism: usize) -> String {
    let operator = format!(
        "[[operator]]\nname = \"tag\"\nplugin = \"{}\"\nparallelism = {parallelism}",
        plugin("version-tag").display()
    );
    generated_pipeline("hot-swap", count, rate, "", &operator)
}

struct Running {
    deployer: Arc<Deployer>,
    /// The pipeline, on a thread and runtime of its own (its future is not `Send`).
    run: std::thread::JoinHandle<anyhow::Result<RunReport>>,
}

impl Running {
    /// Waits for the pipeline to end.
    async fn finish(self) -> anyhow::Result<RunReport> {
        tokio::task::spawn_blocking(move || self.run.join())
            .await?
            .map_err(|_| anyhow::anyhow!("the pipeline thread panicked"))?
    }
}

/// Assembles the pipeline in `dir` and starts it, swappable, with a deployer whose
/// registry is `dir/registry`.
async fn start(dir: &Path, text: &str, policy: RollbackPolicy) -> anyhow::Result<Running> {
    let path = dir.join("pipeline.toml");
    std::fs::write(&path, text)?;
    let config = config::load_file(&path)?;
    let loader = loader(&dir.join("cache"));
    let (pipeline, plugins) = assemble_deployable(&config, &loader).await?;
    let deployer = Deployer::for_pipeline(
        &pipeline,
        &plugins,
        Registry::new(dir.join("registry")),
        loader,
        policy,
    );
    let board = deployer.board().clone();
    let run = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(runtime.block_on(pipeline.run_swappable(RunOptions::default(), None, board))?)
    });
    Ok(Running { deployer, run })
}

fn version_tag() -> PluginName {
    PluginName::parse("version-tag").expect("a valid name")
}

/// The events of `out.jsonl`: generator id → tag, each id once.
fn tagged_output(dir: &Path) -> BTreeMap<u64, String> {
    let text = std::fs::read_to_string(dir.join("out.jsonl")).expect("output written");
    let mut tags = BTreeMap::new();
    for line in text.lines() {
        let (value, tag) = line.rsplit_once('|').expect("a tagged value");
        let json: serde_json::Value = serde_json::from_str(value).expect("a generated value");
        let id = json["id"].as_u64().expect("an id");
        assert!(
            tags.insert(id, tag.to_owned()).is_none(),
            "event {id} twice"
        );
    }
    tags
}

/// Every event `0..count` once, tagged as the swaps `(events_before, tag)` say.
fn check_exactly_once(dir: &Path, count: u64, swaps: &[(u64, &str)]) {
    let tags = tagged_output(dir);
    assert_eq!(tags.len() as u64, count, "every event exactly once");
    assert_eq!(tags.keys().next_back(), Some(&(count - 1)));
    for (id, tag) in &tags {
        let expected = swaps
            .iter()
            .rev()
            .find(|(before, _)| id >= before)
            .map_or("a", |(_, tag)| tag);
        assert_eq!(
            tag, expected,
            "event {id}: tag of the version active at its barrier"
        );
    }
}

fn build(tag: &str) -> PathBuf {
    plugin(if tag == "a" {
        "version-tag"
    } else {
        "version-tag-b"
    })
}

async fn serve_admin(deployer: &Arc<Deployer>, limit: usize) -> anyhow::Result<AdminServer> {
    let routes = AdminRoutes {
        deployer: deployer.clone(),
        token: TOKEN.into(),
        upload_limit: limit,
    };
    Ok(serve("127.0.0.1:0", routes).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_swaps_through_the_api_lose_and_repeat_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let count = 200_000;
    let running = start(
        dir.path(),
        &pipeline_text(count, 20_000, 2),
        RollbackPolicy::default(),
    )
    .await?;
    let server = serve_admin(&running.deployer, 64 << 20).await?;
    let client = AdminClient {
        address: server.address().to_string(),
        token: TOKEN.into(),
    };
    let mut swaps = Vec::new();
    for round in 0..50 {
        let tag = if round % 2 == 0 { "b" } else { "a" };
        let (status, body) = client
            .send("POST", "/plugins/version-tag", std::fs::read(build(tag))?)
            .await?;
        assert_eq!(status, 200, "{body}");
        let report: serde_json::Value = serde_json::from_str(&body)?;
        assert_eq!(report["outcome"], "swapped", "{body}");
        let operator = &report["operators"][0];
        swaps.push((
            operator["events_before"].as_u64().expect("events_before"),
            tag,
        ));
    }
    assert!(swaps.windows(2).all(|pair| pair[0].0 <= pair[1].0));
    running.finish().await?;
    check_exactly_once(dir.path(), count, &swaps);
    assert_eq!(std::fs::read_to_string(dir.path().join("dead.jsonl"))?, "");
    Ok(())
}

/// Writes `bytes` into `dir/name` in small pieces with pauses, as a slow copy does.
async fn write_slowly(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut file = std::fs::File::create(path)?;
    for chunk in bytes.chunks(bytes.len().div_ceil(4)) {
        file.write_all(chunk)?;
        file.flush()?;
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_swaps_through_the_watched_directory_lose_and_repeat_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let count = 300_000;
    let running = start(
        dir.path(),
        &pipeline_text(count, 20_000, 1),
        RollbackPolicy::default(),
    )
    .await?;
    let incoming = dir.path().join("incoming");
    let _watch = watch(&incoming, running.deployer.clone())?;
    let mut swaps = Vec::new();
    for round in 0..50 {
        let tag = if round % 2 == 0 { "b" } else { "a" };
        let bytes = std::fs::read(build(tag))?;
        let hash = weir_host::plugin::cache::content_hash(&bytes);
        let target = incoming.join("version-tag.wasm");
        if round % 10 == 0 {
            // Written in place, slowly: never loaded half-written.
            write_slowly(&target, &bytes).await?;
        } else {
            let temporary = incoming.join(".version-tag.wasm.tmp");
            std::fs::write(&temporary, &bytes)?;
            std::fs::rename(&temporary, &target)?;
        }
        let asked = std::time::Instant::now();
        let swap = loop {
            let status = running.deployer.status();
            assert!(
                asked.elapsed() < Duration::from_secs(30),
                "round {round}: not deployed within 30 s: {status:?}, {:?}",
                running.deployer.registry().index(&version_tag())
            );
            let operator = &status[0];
            if operator.hash == hash
                && let Some(swap) = &operator.last_swap
            {
                break swap.clone();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        swaps.push((swap.events_before, tag));
    }
    let deployer = running.deployer.clone();
    running.finish().await?;
    check_exactly_once(dir.path(), count, &swaps);
    let index = deployer.registry().index(&version_tag())?;
    assert!(
        index
            .versions
            .iter()
            .all(|record| record.status == VersionStatus::Accepted),
        "no half-written file was ever loaded: {index:?}"
    );
    Ok(())
}

/// A core Wasm module: the magic number and version 1, no sections.
const CORE_MODULE: &[u8] = b"\0asm\x01\0\0\0";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_versions_are_refused_and_the_old_one_keeps_serving() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let count = 150_000;
    let running = start(
        dir.path(),
        &pipeline_text(count, 10_000, 1),
        RollbackPolicy::default(),
    )
    .await?;
    let name = version_tag();
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "garbage",
            b"this is not wasm at all".to_vec(),
            "WebAssembly magic number",
        ),
        ("core module", CORE_MODULE.to_vec(), "core Wasm module"),
        (
            "wrong world",
            std::fs::read(plugin("rolling-stats"))?,
            "window-aggregate",
        ),
        (
            "missing import",
            std::fs::read(plugin("bad-import"))?,
            "needs an import this host does not provide",
        ),
        (
            "trap in init",
            std::fs::read(plugin("init-trap"))?,
            "`init` refused the settings: trap",
        ),
    ];
    for (case, bytes, expected) in cases {
        let hash = weir_host::plugin::cache::content_hash(&bytes);
        match running.deployer.deploy(&name, bytes, "api").await {
            Err(DeployError::Rejected { message, .. }) => {
                assert!(message.contains(expected), "{case}: {message}");
            }
            other => panic!("{case}: expected a rejection, got {other:?}"),
        }
        let index = running.deployer.registry().index(&name)?;
        let record = index.version(&hash).expect("recorded");
        assert_eq!(record.status, VersionStatus::Rejected, "{case}");
        assert!(
            record
                .message
                .as_deref()
                .is_some_and(|m| m.contains(expected)),
            "{case}"
        );
        assert!(
            running.deployer.status()[0]
                .identity
                .starts_with("version-tag@")
        );
    }
    // The old version served all along; a good version still goes in.
    let report = running
        .deployer
        .deploy(&name, std::fs::read(build("b"))?, "api")
        .await?;
    let before = report.operators[0].events_before;
    running.finish().await?;
    check_exactly_once(dir.path(), count, &[(before, "b")]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_that_traps_on_every_batch_is_rolled_back() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let count = 20_000;
    let policy = RollbackPolicy {
        max_faults: 3,
        window: Duration::from_secs(20),
    };
    let running = start(dir.path(), &pipeline_text(count, 20_000, 1), policy).await?;
    let name = version_tag();
    let bad = std::fs::read(plugin("trap-always"))?;
    let bad_hash = weir_host::plugin::cache::content_hash(&bad);
    let report = running.deployer.deploy(&name, bad, "api").await?;
    assert_eq!(report.outcome, "swapped");
    let asked = std::time::Instant::now();
    let rolled_back = loop {
        let status = running.deployer.status();
        assert!(
            asked.elapsed() < Duration::from_secs(30),
            "no rollback within 30 s: {status:?}"
        );
        let rolled = status[0]
            .last_event
            .as_deref()
            .is_some_and(|event| event.contains("automatic rollback"));
        if rolled {
            break status[0].clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(
        rolled_back.identity.starts_with("version-tag@"),
        "{rolled_back:?}"
    );
    let index = running.deployer.registry().index(&name)?;
    assert_eq!(
        index.version(&bad_hash).map(|r| r.status),
        Some(VersionStatus::RolledBack)
    );
    assert_eq!(
        running
            .deployer
            .counters
            .rollbacks
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    let metrics = weir_host::deploy::metrics::render(&running.deployer);
    assert!(
        metrics.contains("weir_plugin_rollbacks_total 1"),
        "{metrics}"
    );
    running.finish().await?;
    // Every event once: in the output (tag a) or dead-lettered by the bad version.
    let tags = tagged_output(dir.path());
    let dead = std::fs::read_to_string(dir.path().join("dead.jsonl"))?;
    let dead_letters = dead.lines().count() as u64;
    assert!(dead_letters > 3, "the bad version ran and trapped");
    assert!(tags.values().all(|tag| tag == "a"));
    assert_eq!(tags.len() as u64 + dead_letters, count);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_needs_the_token_and_refuses_path_tricks() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let running = start(
        dir.path(),
        &pipeline_text(20_000, 10_000, 1),
        RollbackPolicy::default(),
    )
    .await?;
    let component = std::fs::read(build("b"))?;
    let limit = component.len() + 4096;
    let server = serve_admin(&running.deployer, limit).await?;
    let address = server.address().to_string();
    let good = AdminClient {
        address: address.clone(),
        token: TOKEN.into(),
    };
    let wrong = AdminClient {
        address: address.clone(),
        token: "wrong".into(),
    };
    let before = files_outside(dir.path(), "registry");

    assert_eq!(good.send("GET", "/health", Vec::new()).await?.0, 200);
    assert_eq!(wrong.send("GET", "/health", Vec::new()).await?.0, 200);
    let (status, metrics) = wrong.send("GET", "/metrics", Vec::new()).await?;
    assert_eq!(status, 200);
    for series in [
        "weir_operator_events_in_total{operator=\"tag\"",
        "# TYPE weir_operator_batch_duration_seconds histogram",
        "weir_operator_batch_duration_seconds_bucket{operator=\"tag\",le=\"0.001\"}",
        "weir_operator_batch_duration_seconds_bucket{operator=\"tag\",le=\"+Inf\"}",
        "weir_operator_batch_duration_seconds_count{operator=\"tag\"}",
    ] {
        assert!(metrics.contains(series), "{series}:\n{metrics}");
    }
    for (method, path) in [
        ("GET", "/status"),
        ("GET", "/plugins"),
        ("POST", "/plugins/version-tag"),
    ] {
        assert_eq!(wrong.send(method, path, Vec::new()).await?.0, 401, "{path}");
    }
    let routes = AdminRoutes {
        deployer: running.deployer.clone(),
        token: TOKEN.into(),
        upload_limit: limit,
    };
    let no_token = routes
        .handle(AdminRequest {
            method: "GET",
            path: "/status",
            query: None,
            authorization: None,
            body: Vec::new(),
        })
        .await;
    assert_eq!(no_token.status, 401);

    for path in [
        "/plugins/..%2F..%2Fescape",
        "/plugins/../escape",
        "/plugins/a%2Fb",
        "/plugins/a/b",
        "/plugins/nul%00byte",
        "/plugins/%2e%2e",
    ] {
        let (status, body) = good.send("POST", path, component.clone()).await?;
        assert_eq!(status, 400, "{path}: {body}");
    }
    assert_eq!(
        files_outside(dir.path(), "registry"),
        before,
        "nothing written outside the registry"
    );
    assert!(
        !dir.path().join("registry").exists() || running.deployer.registry().names()?.is_empty()
    );

    let (status, body) = good
        .send("POST", "/plugins/version-tag", vec![0; limit + 1])
        .await?;
    assert_eq!(status, 413, "{body}");
    let (status, body) = good.send("POST", "/plugins/version-tag", component).await?;
    assert_eq!(status, 200, "{body}");
    let (status, body) = good.send("GET", "/status", Vec::new()).await?;
    assert_eq!(status, 200);
    assert!(body.contains("version-tag@0.1.0"), "{body}");
    let (status, body) = good
        .send("POST", "/plugins/version-tag/rollback", Vec::new())
        .await?;
    assert_eq!(status, 200, "{body}");
    running.finish().await?;
    Ok(())
}

/// Every file under `dir` but those under `dir/except` and the pipeline's outputs.
fn files_outside(dir: &Path, except: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.starts_with(dir.join(except)) || path.starts_with(dir.join("cache")) {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if !path.ends_with("out.jsonl") && !path.ends_with("dead.jsonl") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}
