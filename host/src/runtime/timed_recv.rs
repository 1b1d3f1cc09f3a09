//! [`TimedInbox`]: a blocking receive with a deadline, for chain threads.
//!
//! Chains run on threads of their own and block on their inbox; tokio's
//! `blocking_recv` has no timeout, and a chain must wake up now and then to give its
//! operators processing time ([`super::operator::Operator::on_processing_time`]) even
//! when no message arrives. This polls the receiver with a waker that unparks the
//! thread, and parks with a timeout in between: no runtime, no timer wheel, no extra
//! task or message per tick, and a message that arrives wakes the thread at once.
//! A message is never lost to a timeout: `poll_recv` takes a message only when it
//! returns it.

use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

use super::channel::Inbox;
use super::message::Envelope;

/// What [`TimedInbox::recv_timeout`] got.
#[derive(Debug)]
pub enum Received {
    /// A message.
    Message(Envelope),
    /// Every sender is gone and the queue is empty.
    Closed,
    /// Nothing arrived before the deadline.
    Timeout,
}

/// Wakes the thread that waits.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// A subtask's inbox, received from by one thread with timeouts.
#[derive(Debug)]
pub struct TimedInbox {
    inbox: Inbox,
    /// Unparks the receiving thread; made on the first receive, on that thread.
    waker: Option<Waker>,
}

impl TimedInbox {
    /// Wraps `inbox`; the thread that first receives must be the only one to.
    pub fn new(inbox: Inbox) -> Self {
        TimedInbox { inbox, waker: None }
    }

    /// Waits until a message arrives, the inbox closes, or `timeout` passes. A
    /// timeout of zero only takes what is already there.
    ///
    /// Must not be called from async code (it blocks the thread).
    pub fn recv_timeout(&mut self, timeout: Duration) -> Received {
        let waker = self
            .waker
            .get_or_insert_with(|| Waker::from(Arc::new(Unpark(std::thread::current()))));
        let mut context = Context::from_waker(waker);
        let mut deadline = None;
        loop {
            match self.inbox.poll_recv(&mut context) {
                Poll::Ready(Some(envelope)) => return Received::Message(envelope),
                Poll::Ready(None) => return Received::Closed,
                Poll::Pending => {}
            }
            let now = Instant::now();
            let due = *deadline.get_or_insert(now + timeout);
            if now >= due {
                return Received::Timeout;
            }
            // Woken early by the waker (a message or the close), or spuriously: poll
            // again.
            std::thread::park_timeout(due - now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::channel::inboxes;
    use crate::runtime::message::Message;

    #[test]
    fn times_out_then_receives_then_sees_the_close() {
        let (mut senders, mut inboxes) = inboxes(1, 4);
        let mut inbox = TimedInbox::new(inboxes.remove(0));
        let started = Instant::now();
        assert!(matches!(
            inbox.recv_timeout(Duration::from_millis(30)),
            Received::Timeout
        ));
        assert!(started.elapsed() >= Duration::from_millis(30));

        let sender = senders.remove(0);
        let late = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            sender
                .blocking_send(Envelope {
                    input: 0,
                    message: Message::End,
                })
                .expect("open");
        });
        let started = Instant::now();
        let got = inbox.recv_timeout(Duration::from_secs(10));
        assert!(matches!(
            got,
            Received::Message(Envelope {
                message: Message::End,
                ..
            })
        ));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "woken by the message"
        );
        late.join().expect("sender thread");
        assert!(matches!(
            inbox.recv_timeout(Duration::from_secs(10)),
            Received::Closed
        ));
    }
}
