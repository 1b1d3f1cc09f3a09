//! The admin HTTP API of a running host, and the client the CLI uses.
//!
//! Bound to `127.0.0.1` by default. Every route but `GET /health` and `GET /metrics`
//! needs `Authorization: Bearer <token>`, the token the host creates at its first
//! start in `<data dir>/admin-token`, readable by its owner only.
//!
//! | route | what |
//! |---|---|
//! | `GET /health` | `ok` |
//! | `GET /metrics` | Prometheus text |
//! | `GET /status` | the plugin version and models each operator runs (JSON) |
//! | `GET /plugins` | every plugin in the registry with its versions (JSON) |
//! | `POST /plugins/NAME` | deploy the body (a component) as a version of `NAME` |
//! | `POST /plugins/NAME/rollback[?version=V]` | back to `V`, or to the previous version |
//! | `POST /plugins/NAME/pin?version=V`, `DELETE /plugins/NAME/pin` | pin, unpin |
//! | `POST /models/NAME` | deploy the body (an ONNX file) as model `NAME` of the operators granted it |
//!
//! - [`auth`]: the token; [`routes`]: the requests; [`server`]: the listener;
//!   [`client`]: `weir deploy`, `weir plugins`, `weir rollback`, `weir status`.

pub mod auth;
pub mod client;
pub mod routes;
pub mod server;
