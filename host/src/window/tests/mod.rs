//! Tests of the window operator against a reference model ([`oracle`]), by window
//! kind ([`golden`]), as properties ([`props`]), for triggers, failures, built-ins and
//! process functions.

mod bench;
mod builtins;
mod durable;
mod faults;
mod golden;
mod oracle;
mod process_fn;
mod props;
mod support;
mod triggers;
