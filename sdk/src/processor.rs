//! The traits a plugin implements. [`Processor`] is the general one (a batch in,
//! outputs out); [`Filter`], [`Map`] and [`FlatMap`] are the few-line shapes most
//! operators take, each turned into a processor by its export macro.

use serde::de::DeserializeOwned;

use crate::event::{Batch, Event};
use crate::{Error, Output};

/// The operator's settings from the pipeline file (its `[operator.settings]` table),
/// as JSON.
#[derive(Debug, Clone)]
pub struct Settings {
    json: String,
}

impl Settings {
    pub(crate) fn new(json: String) -> Self {
        Settings { json }
    }

    /// Settings from a JSON text, as the host passes them: for testing a plugin natively.
    ///
    /// ```
    /// # #[derive(serde::Deserialize)] struct Config { min: f64 }
    /// let settings = weir_sdk::Settings::from_json(r#"{"min": 2.5}"#);
    /// assert_eq!(settings.parse::<Config>().unwrap().min, 2.5);
    /// ```
    pub fn from_json(json: impl Into<String>) -> Self {
        Settings { json: json.into() }
    }

    /// Deserialises the settings into `T`.
    ///
    /// # Errors
    /// [`Error::config`] saying which setting is missing or of the wrong type.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_str(&self.json)
            .map_err(|error| Error::config(format!("settings: {error}")))
    }

    /// The settings as a JSON text.
    pub fn as_json(&self) -> &str {
        &self.json
    }
}

/// A stateless operator over batches. Export it with [`crate::export_processor!`].
///
/// The host makes one instance per operator subtask and calls [`Processor::process`]
/// once per batch, never concurrently. After a fault the instance is replaced by a
/// fresh one (and `init` runs again), so keep nothing in `self` but settings and caches.
pub trait Processor: Sized + 'static {
    /// Named outputs this operator may emit to besides the main one.
    const OUTPUTS: &'static [&'static str] = &[];

    /// Builds the operator from its settings.
    ///
    /// # Errors
    /// [`Error::config`] to refuse the settings: the pipeline does not start.
    fn init(settings: Settings) -> Result<Self, Error>;

    /// Processes one batch.
    ///
    /// # Errors
    /// An error fails the whole batch: the host re-runs it event by event to isolate
    /// the events at fault. Prefer [`Output::reject`] for a single bad event.
    fn process(&mut self, batch: &Batch, out: &mut Output) -> Result<(), Error>;
}

/// Keeps the events for which [`Filter::keep`] is true. The settings deserialise
/// into the filter itself. Export it with [`crate::export_filter!`].
pub trait Filter: DeserializeOwned + 'static {
    /// Whether to keep `event`. An error sends the event to the dead-letter output.
    ///
    /// # Errors
    /// Any [`Error`] rejects this event (e.g. it is not valid JSON).
    fn keep(&mut self, event: &Event<'_>) -> Result<bool, Error>;
}

/// Rewrites the value of each event, keeping its key, time and headers. The settings
/// deserialise into the map itself. Export it with [`crate::export_map!`].
pub trait Map: DeserializeOwned + 'static {
    /// Writes the new value of `event` into `value` (empty, with room reused across
    /// events).
    ///
    /// # Errors
    /// Any [`Error`] sends this event to the dead-letter output.
    fn map(&mut self, event: &Event<'_>, value: &mut Vec<u8>) -> Result<(), Error>;
}

/// Emits zero or more events per input event. The settings deserialise into the
/// operator itself. Export it with [`crate::export_flat_map!`].
pub trait FlatMap: DeserializeOwned + 'static {
    /// Named outputs this operator may emit to besides the main one.
    const OUTPUTS: &'static [&'static str] = &[];

    /// Emits what `event` becomes into `out`.
    ///
    /// # Errors
    /// Any [`Error`] sends this event to the dead-letter output; what was emitted for
    /// it before the error stays emitted.
    fn flat_map(&mut self, event: &Event<'_>, out: &mut Output) -> Result<(), Error>;
}

fn settings_into<T: DeserializeOwned>(settings: &Settings) -> Result<T, Error> {
    settings.parse()
}

/// A [`Filter`] as a [`Processor`].
#[derive(Debug)]
pub struct FilterProcessor<F>(F);

impl<F: Filter> Processor for FilterProcessor<F> {
    fn init(settings: Settings) -> Result<Self, Error> {
        settings_into(&settings).map(FilterProcessor)
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) -> Result<(), Error> {
        for event in batch.iter() {
            match self.0.keep(&event) {
                Ok(true) => out.emit(&event),
                Ok(false) => {}
                Err(error) => out.reject(&event, error),
            }
        }
        Ok(())
    }
}

/// A [`Map`] as a [`Processor`].
#[derive(Debug)]
pub struct MapProcessor<M> {
    map: M,
    value: Vec<u8>,
}

impl<M: Map> Processor for MapProcessor<M> {
    fn init(settings: Settings) -> Result<Self, Error> {
        settings_into(&settings).map(|map| MapProcessor {
            map,
            value: Vec::new(),
        })
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) -> Result<(), Error> {
        for event in batch.iter() {
            self.value.clear();
            match self.map.map(&event, &mut self.value) {
                Ok(()) => out.emit_value(&event, &self.value),
                Err(error) => out.reject(&event, error),
            }
        }
        Ok(())
    }
}

/// A [`FlatMap`] as a [`Processor`].
#[derive(Debug)]
pub struct FlatMapProcessor<F>(F);

impl<F: FlatMap> Processor for FlatMapProcessor<F> {
    const OUTPUTS: &'static [&'static str] = F::OUTPUTS;

    fn init(settings: Settings) -> Result<Self, Error> {
        settings_into(&settings).map(FlatMapProcessor)
    }

    fn process(&mut self, batch: &Batch, out: &mut Output) -> Result<(), Error> {
        for event in batch.iter() {
            if let Err(error) = self.0.flat_map(&event, out) {
                out.reject(&event, error);
            }
        }
        Ok(())
    }
}
