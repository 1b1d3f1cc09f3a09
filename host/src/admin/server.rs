//! The admin API's HTTP/1 listener (hyper), in front of [`AdminRoutes`].
//!
//! A body is read up to the upload limit and no further: a larger upload (by its
//! `Content-Length`, or as it streams) is answered with 413 without being kept.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::routes::{AdminRequest, AdminResponse, AdminRoutes};

/// The default address: loopback only.
pub const DEFAULT_ADDRESS: &str = "127.0.0.1:7878";

/// A running admin server; dropping it stops accepting connections.
#[derive(Debug)]
pub struct AdminServer {
    address: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl AdminServer {
    /// The address it listens on (with the port the system chose for port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Listens on `address` and serves `routes`.
///
/// # Errors
/// When the address cannot be bound.
pub async fn serve(address: &str, routes: AdminRoutes) -> std::io::Result<AdminServer> {
    let listener = TcpListener::bind(address).await?;
    let address = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let routes = routes.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let routes = routes.clone();
                    async move { Ok::<_, Infallible>(answer(&routes, request).await) }
                });
                if let Err(error) = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    tracing::debug!(target: "weir::admin", %error, "connection ended");
                }
            });
        }
    });
    Ok(AdminServer { address, task })
}

async fn answer(routes: &AdminRoutes, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    let too_large = AdminResponse {
        status: 413,
        content_type: "application/json",
        body: format!(
            "{{\"error\":\"upload over the limit of {} bytes\"}}\n",
            routes.upload_limit
        ),
    };
    let response = if declared.is_some_and(|length| length > routes.upload_limit) {
        too_large
    } else {
        match Limited::new(body, routes.upload_limit).collect().await {
            Ok(collected) => {
                let authorization = parts
                    .headers
                    .get(hyper::header::AUTHORIZATION)
                    .and_then(|value| value.to_str().ok());
                routes
                    .handle(AdminRequest {
                        method: parts.method.as_str(),
                        path: parts.uri.path(),
                        query: parts.uri.query(),
                        authorization,
                        body: collected.to_bytes().to_vec(),
                    })
                    .await
            }
            Err(_) => too_large,
        }
    };
    let mut http = Response::new(Full::new(Bytes::from(response.body)));
    *http.status_mut() = hyper::StatusCode::from_u16(response.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = hyper::header::HeaderValue::from_str(response.content_type) {
        http.headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    http
}
