//! A chain on its thread, fed by hand: watermarks combined over idle inputs, and
//! processing time that reaches operators while no message arrives.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use weir_batch::Batch;

use super::*;
use crate::runtime::channel::{Outlet, Partitioning, inboxes};

/// Passes events through and records the hooks it gets.
#[derive(Debug, Default)]
struct Recorder {
    watermarks: Arc<Mutex<Vec<Timestamp>>>,
    ticks: Arc<Mutex<Vec<i64>>>,
}

impl Operator for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }

    fn process(&mut self, batch: Batch, out: &mut Emitted) -> Result<(), OperatorError> {
        out.main.append(batch);
        Ok(())
    }

    fn on_watermark(&mut self, watermark: Timestamp, _: &mut Emitted) -> Result<(), OperatorError> {
        self.watermarks.lock().expect("lock").push(watermark);
        Ok(())
    }

    fn on_processing_time(&mut self, now_ms: i64, _: &mut Emitted) -> Result<(), OperatorError> {
        self.ticks.lock().expect("lock").push(now_ms);
        Ok(())
    }
}

#[test]
fn idle_inputs_processing_time_and_the_end() {
    let recorder = Recorder::default();
    let (watermarks, ticks) = (recorder.watermarks.clone(), recorder.ticks.clone());
    let (mut senders, mut inboxes_in) = inboxes(1, 64);
    let (collector_senders, mut collectors) = inboxes(1, 64);
    let (dead_letters, _dead) = mpsc::channel(16);
    let chain = Chain::new(
        "recorder[0]".into(),
        vec![Box::new(recorder)],
        inboxes_in.remove(0),
        2,
        ChainOutputs {
            main: Fanout::new(vec![Outlet::new(
                collector_senders,
                0,
                Partitioning::RoundRobin,
            )]),
            key_selector: None,
            named: HashMap::new(),
            dead_letters,
        },
    );
    let thread = std::thread::spawn(move || chain.run());
    let input = senders.remove(0);
    let send = |from: usize, message: Message| {
        input
            .blocking_send(Envelope {
                input: from,
                message,
            })
            .expect("the chain runs");
    };
    let mut batch = Batch::default();
    batch.push(None, b"x", 15);
    send(0, Message::Watermark(10));
    send(1, Message::Idle);
    send(0, Message::Idle);
    std::thread::sleep(Duration::from_millis(350));
    let quiet_ticks = ticks.lock().expect("lock").len();
    send(1, Message::Batch(batch.clone()));
    send(1, Message::Watermark(20));
    send(0, Message::End);
    send(1, Message::End);
    thread.join().expect("no panic").expect("runs to the end");

    let mut got = Vec::new();
    while let Some(envelope) = collectors[0].blocking_recv() {
        got.push(envelope.message);
    }
    assert_eq!(
        got,
        [
            Message::Watermark(10),
            Message::Idle,
            Message::Batch(batch),
            Message::Watermark(20),
            Message::Watermark(Timestamp::MAX),
            Message::End
        ]
    );
    assert_eq!(*watermarks.lock().expect("lock"), [10, 20, Timestamp::MAX]);
    assert!(
        quiet_ticks >= 2,
        "woken while no message came: {quiet_ticks} ticks"
    );
    let ticks = ticks.lock().expect("lock");
    assert!(
        ticks.windows(2).all(|pair| pair[0] <= pair[1]),
        "wall clock"
    );
}
