//! The watched directory: drop `NAME.wasm` into it and a version of plugin `NAME` is
//! deployed, as by `weir deploy NAME NAME.wasm`; drop `NAME.onnx` and it is deployed
//! as model `NAME`, as by `weir deploy --model NAME NAME.onnx`.
//!
//! A file still being written is never loaded. Change events (from `notify`: inotify
//! on Linux) are debounced:
//! - a file renamed into the directory (write `.NAME.wasm.tmp`, then rename it to
//!   `NAME.wasm`: the safest way in) is complete; it is deployed once no event has
//!   touched it for [`DEBOUNCE`];
//! - a file written in place is read only once no event has touched it for
//!   [`QUIET`], and deployed only if its size and SHA-256 are the same on two reads
//!   [`QUIET`] apart; otherwise it is looked at again later.
//!
//! Hidden files and names ending in neither `.wasm` nor `.onnx` are ignored. A file whose content was
//! deployed already (the same hash) is not deployed again. Files present when the
//! watch starts are considered too (as written in place).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::name::PluginName;
use super::service::Deployer;
use crate::plugin::cache::content_hash;

/// How long a file written in place must be left alone before it is read, and
/// between the two reads that must agree.
pub const QUIET: Duration = Duration::from_millis(200);

/// How long a file renamed into the directory must be left alone before it is read.
pub const DEBOUNCE: Duration = Duration::from_millis(50);

/// When a file was last touched, and whether that was a rename into the directory.
#[derive(Debug, Clone, Copy)]
struct Touched {
    at: Instant,
    renamed: bool,
}

impl Touched {
    fn now(renamed: bool) -> Self {
        Touched {
            at: Instant::now(),
            renamed,
        }
    }

    fn is_quiet(&self) -> bool {
        self.at.elapsed() >= if self.renamed { DEBOUNCE } else { QUIET }
    }
}

/// A running watch; dropping it stops the watch.
#[derive(Debug)]
pub struct DirectoryWatch {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DirectoryWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts watching `dir` (created if missing), deploying through `deployer`.
///
/// # Errors
/// When the directory cannot be created or watched.
pub fn watch(dir: &Path, deployer: Arc<Deployer>) -> anyhow::Result<DirectoryWatch> {
    std::fs::create_dir_all(dir)?;
    let (sender, mut changes) = mpsc::unbounded_channel::<(PathBuf, bool)>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // Reads (ours too) are access events: only changes count.
        if let Ok(event) = event
            && !event.kind.is_access()
            && !event.kind.is_other()
        {
            let renamed = matches!(
                event.kind,
                notify::EventKind::Modify(notify::event::ModifyKind::Name(_))
            );
            for path in event.paths {
                let _ = sender.send((path, renamed));
            }
        }
    })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    let mut waiting: HashMap<PathBuf, Touched> = HashMap::new();
    for entry in std::fs::read_dir(dir)?.flatten() {
        waiting.insert(entry.path(), Touched::now(false));
    }
    let task = tokio::spawn(async move {
        let mut deployed: HashMap<PathBuf, String> = HashMap::new();
        let mut candidates: HashMap<PathBuf, (u64, String)> = HashMap::new();
        let mut tick = tokio::time::interval(DEBOUNCE / 2);
        loop {
            tokio::select! {
                change = changes.recv() => match change {
                    Some((path, renamed)) => {
                        candidates.remove(&path);
                        waiting.insert(path, Touched::now(renamed));
                    }
                    None => return,
                },
                _ = tick.tick() => {
                    let quiet: Vec<(PathBuf, Touched)> = waiting
                        .iter()
                        .filter(|(_, touched)| touched.is_quiet())
                        .map(|(path, touched)| (path.clone(), *touched))
                        .collect();
                    for (path, touched) in quiet {
                        waiting.remove(&path);
                        let mut look = Look { deployer: &deployer, candidates: &mut candidates, deployed: &mut deployed, waiting: &mut waiting };
                        look.at(&path, touched.renamed).await;
                    }
                }
            }
        }
    });
    Ok(DirectoryWatch {
        _watcher: watcher,
        task,
    })
}

/// What a file in the watched directory is a version of.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Deployable {
    /// `NAME.wasm`: plugin `NAME`.
    Plugin(PluginName),
    /// `NAME.onnx`: model `NAME`.
    Model(PluginName),
}

/// The plugin or model a file in the watched directory is a version of, if any.
fn deployable(path: &Path) -> Option<Deployable> {
    let file = path.file_name()?.to_str()?;
    if file.starts_with('.') {
        return None;
    }
    if let Some(stem) = file.strip_suffix(".wasm") {
        return PluginName::parse(stem).ok().map(Deployable::Plugin);
    }
    let stem = file.strip_suffix(".onnx")?;
    PluginName::parse(stem).ok().map(Deployable::Model)
}

/// What the watch knows while it looks at a quiet file.
struct Look<'a> {
    deployer: &'a Arc<Deployer>,
    /// Size and hash of the last read of files written in place.
    candidates: &'a mut HashMap<PathBuf, (u64, String)>,
    /// The hash last deployed from each file.
    deployed: &'a mut HashMap<PathBuf, String>,
    waiting: &'a mut HashMap<PathBuf, Touched>,
}

impl Look<'_> {
    /// Deploys `path` if it was renamed in or two reads agree; else waits for another
    /// look.
    async fn at(&mut self, path: &Path, renamed: bool) {
        let Some(what) = deployable(path) else {
            return;
        };
        let Ok(bytes) = tokio::fs::read(path).await else {
            self.candidates.remove(path);
            return;
        };
        let seen = (bytes.len() as u64, content_hash(&bytes));
        if !renamed && self.candidates.get(path) != Some(&seen) {
            // First look, or it changed since: look again once it has been still.
            self.candidates.insert(path.to_owned(), seen);
            self.waiting.insert(path.to_owned(), Touched::now(false));
            return;
        }
        self.candidates.remove(path);
        if self.deployed.get(path) == Some(&seen.1) {
            return;
        }
        self.deployed.insert(path.to_owned(), seen.1);
        deploy(self.deployer, &what, path, bytes).await;
    }
}

async fn deploy(deployer: &Arc<Deployer>, what: &Deployable, path: &Path, bytes: Vec<u8>) {
    let origin = format!("watch:{}", path.display());
    let (deployed, name) = match what {
        Deployable::Plugin(name) => (deployer.deploy(name, bytes, &origin).await, name),
        Deployable::Model(name) => (deployer.deploy_model(name, bytes, &origin).await, name),
    };
    match deployed {
        Ok(report) => tracing::info!(
            target: "weir::deploy",
            name = %name,
            file = %path.display(),
            outcome = report.outcome,
            "deployed from the watched directory"
        ),
        Err(error) => tracing::warn!(
            target: "weir::deploy",
            file = %path.display(),
            "not deployed: {error}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> PluginName {
        PluginName::parse(text).expect("a valid name")
    }

    #[test]
    fn components_are_plugins_onnx_files_models_and_the_rest_is_ignored() {
        let look = |file: &str| deployable(&Path::new("/incoming").join(file));
        assert_eq!(
            look("json-filter.wasm"),
            Some(Deployable::Plugin(name("json-filter")))
        );
        assert_eq!(look("fraud.onnx"), Some(Deployable::Model(name("fraud"))));
        for ignored in [".fraud.onnx.tmp", ".x.wasm", "notes.txt", "fraud.onnx.part"] {
            assert_eq!(look(ignored), None, "{ignored}");
        }
    }
}
