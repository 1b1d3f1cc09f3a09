//! The admin API's client, for the CLI: one HTTP/1 request over a fresh connection.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// A host's admin API: its address and token.
#[derive(Debug, Clone)]
pub struct AdminClient {
    pub address: String,
    pub token: String,
}

impl AdminClient {
    /// Sends `method path` with `body`; returns the status and the body as text.
    ///
    /// # Errors
    /// When the host cannot be reached or the exchange fails.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
    ) -> anyhow::Result<(u16, String)> {
        let stream = TcpStream::connect(&self.address).await.map_err(|error| {
            anyhow::anyhow!(
                "cannot reach the host's admin API at {}: {error} (is `weir run` running?)",
                self.address
            )
        })?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        let driver = tokio::spawn(connection);
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, &self.address)
            .header(
                hyper::header::AUTHORIZATION,
                format!("Bearer {}", self.token),
            )
            .body(Full::new(Bytes::from(body)))?;
        let response = sender.send_request(request).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        driver.abort();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}
