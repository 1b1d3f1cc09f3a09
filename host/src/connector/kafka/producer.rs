//! [`Producer`]: a librdkafka producer polled by its own thread, which remembers the
//! first failed delivery, and sends a batch's events (waiting while its queue is
//! full). Shared by the sink and the dead-letter sink.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{
    BaseRecord, DeliveryResult, Producer as _, ProducerContext, ThreadedProducer,
};
use rdkafka::{ClientConfig, ClientContext};

use super::{CLIENT_TIMEOUT, kafka_error};
use crate::connector::ConnectorError;

/// Remembers the first delivery that failed.
#[derive(Debug, Default)]
pub(crate) struct Deliveries {
    failed: Mutex<Option<String>>,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _opaque: ()) {
        if let Err((error, _)) = result
            && let Ok(mut failed) = self.failed.lock()
        {
            failed.get_or_insert_with(|| error.to_string());
        }
    }
}

/// A producer of one connector (see the module docs).
#[derive(Clone)]
pub(crate) struct Producer {
    pub describe: String,
    pub inner: Arc<ThreadedProducer<Deliveries>>,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("describe", &self.describe)
            .finish_non_exhaustive()
    }
}

/// One record to send.
pub(crate) struct Record<'a> {
    pub key: Option<&'a [u8]>,
    pub value: &'a [u8],
    pub timestamp: Option<i64>,
    pub headers: Option<OwnedHeaders>,
}

impl Producer {
    /// A producer from `config`.
    ///
    /// # Errors
    /// An invalid setting.
    pub fn create(describe: String, config: &ClientConfig) -> Result<Self, ConnectorError> {
        let inner: ThreadedProducer<Deliveries> = config
            .create_with_context(Deliveries::default())
            .map_err(kafka_error(&describe, "creating the producer"))?;
        Ok(Producer {
            describe,
            inner: Arc::new(inner),
        })
    }

    /// Queues `record` to `topic`, waiting while the producer's queue is full.
    ///
    /// # Errors
    /// A record librdkafka refuses (too large...), or a delivery that failed before.
    pub async fn send(&self, topic: &str, record: Record<'_>) -> Result<(), ConnectorError> {
        self.check_deliveries()?;
        let mut base = BaseRecord::to(topic).payload(record.value);
        if let Some(key) = record.key {
            base = base.key(key);
        }
        if let Some(timestamp) = record.timestamp {
            base = base.timestamp(timestamp);
        }
        if let Some(headers) = record.headers {
            base = base.headers(headers);
        }
        loop {
            match self.inner.send(base) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    base = back;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Err((error, _)) => {
                    return Err(ConnectorError::new(
                        &self.describe,
                        format!("sending: {error}"),
                    ));
                }
            }
        }
    }

    /// Waits until everything queued is delivered.
    ///
    /// # Errors
    /// A delivery that failed, or a flush that timed out.
    pub async fn flush(&self) -> Result<(), ConnectorError> {
        self.blocking("flushing", |producer| producer.flush(CLIENT_TIMEOUT))
            .await?;
        self.check_deliveries()
    }

    /// Runs a blocking client call off the async threads.
    ///
    /// # Errors
    /// The call's error, named by `what`.
    pub async fn blocking<F>(&self, what: &str, call: F) -> Result<(), ConnectorError>
    where
        F: FnOnce(&ThreadedProducer<Deliveries>) -> Result<(), KafkaError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || call(&inner))
            .await
            .map_err(|error| ConnectorError::new(&self.describe, error))?
            .map_err(kafka_error(&self.describe, what))
    }

    fn check_deliveries(&self) -> Result<(), ConnectorError> {
        let failed = self
            .inner
            .context()
            .failed
            .lock()
            .ok()
            .and_then(|f| f.clone());
        match failed {
            Some(error) => Err(ConnectorError::new(
                &self.describe,
                format!("a record was not delivered: {error}"),
            )),
            None => Ok(()),
        }
    }
}

/// The headers of a record, from (name, value) pairs.
pub(crate) fn headers<'a>(
    pairs: impl Iterator<Item = (&'a str, &'a [u8])>,
) -> Option<OwnedHeaders> {
    let mut headers: Option<OwnedHeaders> = None;
    for (key, value) in pairs {
        headers = Some(headers.unwrap_or_default().insert(Header {
            key,
            value: Some(value),
        }));
    }
    headers
}
