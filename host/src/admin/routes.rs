//! The admin API's requests, from method, path, query, token and body to a status and
//! a body; see [`super`] for the table. Independent of the HTTP library, so the rules
//! (authentication, name checks, size limit) are tested without a socket.

use std::sync::Arc;

use serde_json::json;

use super::auth::authorized;
use crate::deploy::service::DeployError;
use crate::deploy::{Deployer, PluginName, metrics};

/// Largest file accepted by `POST /plugins/NAME` and `POST /models/NAME` (64 MiB).
pub const DEFAULT_UPLOAD_LIMIT: usize = 64 << 20;

/// A request, as the router sees it.
#[derive(Debug)]
pub struct AdminRequest<'a> {
    pub method: &'a str,
    /// The path, still percent-encoded.
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    pub body: Vec<u8>,
}

/// A response: status, content type, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl AdminResponse {
    fn json(status: u16, value: &serde_json::Value) -> Self {
        AdminResponse {
            status,
            content_type: "application/json",
            body: format!("{value}\n"),
        }
    }

    fn error(status: u16, message: impl std::fmt::Display) -> Self {
        Self::json(status, &json!({ "error": message.to_string() }))
    }

    fn text(body: String) -> Self {
        AdminResponse {
            status: 200,
            content_type: "text/plain; version=0.0.4",
            body,
        }
    }
}

/// Routes requests to a [`Deployer`], checking the token.
#[derive(Debug, Clone)]
pub struct AdminRoutes {
    pub deployer: Arc<Deployer>,
    pub token: String,
    pub upload_limit: usize,
}

/// Percent-decodes a path segment; `None` if an escape is malformed.
fn percent_decode(segment: &str) -> Option<Vec<u8>> {
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = std::str::from_utf8(bytes.get(index + 1..index + 3)?).ok()?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    Some(decoded)
}

/// The plugin name in a path segment, or a 400 saying why not.
fn plugin_name(segment: &str) -> Result<PluginName, AdminResponse> {
    let decoded = percent_decode(segment).ok_or_else(|| {
        AdminResponse::error(400, "malformed percent-encoding in the plugin name")
    })?;
    let name = String::from_utf8(decoded)
        .map_err(|_| AdminResponse::error(400, "the plugin name is not UTF-8"))?;
    PluginName::parse(&name).map_err(|why| AdminResponse::error(400, why))
}

/// The value of `key` in a query string.
fn query_value<'q>(query: Option<&'q str>, key: &str) -> Option<&'q str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == key)
        .map(|(_, value)| value)
}

fn deploy_error(error: &DeployError) -> AdminResponse {
    let status = match error {
        DeployError::Rejected { .. } | DeployError::ModelRejected { .. } => 422,
        DeployError::NotRunning(_) | DeployError::NotGranted(_) => 404,
        DeployError::BadVersion(_) => 400,
        DeployError::Swap { .. } | DeployError::Registry(_) => 500,
    };
    AdminResponse::error(status, error)
}

fn report<T: serde::Serialize>(result: Result<T, DeployError>) -> AdminResponse {
    match result {
        Ok(report) => AdminResponse::json(200, &json!(report)),
        Err(error) => deploy_error(&error),
    }
}

impl AdminRoutes {
    /// Answers `request`.
    pub async fn handle(&self, request: AdminRequest<'_>) -> AdminResponse {
        match (request.method, request.path) {
            ("GET", "/health") => return AdminResponse::json(200, &json!({ "status": "ok" })),
            ("GET", "/metrics") => return AdminResponse::text(metrics::render(&self.deployer)),
            _ => {}
        }
        if !authorized(request.authorization, &self.token) {
            return AdminResponse::error(
                401,
                "missing or wrong bearer token (see the admin-token file in the host's data directory)",
            );
        }
        let segments: Vec<&str> = request.path.trim_start_matches('/').split('/').collect();
        match (request.method, segments.as_slice()) {
            ("GET", ["status"]) => AdminResponse::json(200, &json!(self.deployer.status())),
            ("GET", ["plugins"]) => self.list(),
            ("POST", ["plugins", name]) => match plugin_name(name) {
                Ok(name) => self.deploy(&name, request.body, false).await,
                Err(response) => response,
            },
            ("POST", ["models", name]) => match plugin_name(name) {
                Ok(name) => self.deploy(&name, request.body, true).await,
                Err(response) => response,
            },
            (_, ["models", ..]) => AdminResponse::error(
                400,
                "POST /models/NAME with the model file; a model name may not contain `/`",
            ),
            (method, ["plugins", name, action]) => {
                let name = match plugin_name(name) {
                    Ok(name) => name,
                    Err(response) => return response,
                };
                let version = query_value(request.query, "version");
                match (method, *action) {
                    ("POST", "rollback") => report(self.deployer.rollback(&name, version).await),
                    ("POST", "pin") if version.is_some() => {
                        report(self.deployer.pin(&name, version).await)
                    }
                    ("POST", "pin") => AdminResponse::error(400, "pin needs ?version=V"),
                    ("DELETE", "pin") => report(self.deployer.pin(&name, None).await),
                    // `POST /plugins/a/b`: a name with a `/` in it, or an unknown action.
                    _ => AdminResponse::error(
                        400,
                        format!(
                            "no action `{action}` (rollback, pin); a plugin name may not contain `/`"
                        ),
                    ),
                }
            }
            // A name with a `/` in it (or `../`) lands here: refuse it as a name.
            (_, ["plugins", ..]) => AdminResponse::error(
                400,
                "a plugin name may not contain `/`; use letters, digits, `-`, `_` and `.`",
            ),
            (method, _) => AdminResponse::error(404, format!("no route {method} {}", request.path)),
        }
    }

    /// `POST /plugins/NAME` (`model` false) or `POST /models/NAME`.
    async fn deploy(&self, name: &PluginName, body: Vec<u8>, model: bool) -> AdminResponse {
        if body.len() > self.upload_limit {
            return AdminResponse::error(
                413,
                format!("upload over the limit of {} bytes", self.upload_limit),
            );
        }
        if model {
            report(self.deployer.deploy_model(name, body, "api").await)
        } else {
            report(self.deployer.deploy(name, body, "api").await)
        }
    }

    fn list(&self) -> AdminResponse {
        let registry = self.deployer.registry();
        let names = match registry.names() {
            Ok(names) => names,
            Err(error) => return AdminResponse::error(500, error),
        };
        let mut plugins = serde_json::Map::new();
        for name in names {
            match registry.index(&name) {
                Ok(index) => plugins.insert(name.to_string(), json!(index)),
                Err(error) => return AdminResponse::error(500, error),
            };
        }
        AdminResponse::json(200, &serde_json::Value::Object(plugins))
    }
}
