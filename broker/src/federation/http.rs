//! HTTP toward upstream IdPs: `https` only (plain `http` on loopback addresses for development
//! and tests), no redirects followed, short timeouts and a cap on response size. It plugs into
//! `openidconnect` as its [`AsyncHttpClient`], so the crate's discovery, token and userinfo
//! calls go through the same rules as ours.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};
use url::Url;

use crate::error::{Error, ErrorCode, Result};
use crate::provider::redirect::is_loopback;

/// The largest upstream response read (discovery, JWKS, tokens, userinfo).
const MAX_RESPONSE_BYTES: usize = 512 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why an upstream call failed.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamHttpError {
    /// The URL is not `https` (or loopback `http`).
    #[error("{0} must use https (plain http is allowed only on 127.0.0.1, ::1 and localhost)")]
    InsecureUrl(String),
    /// Connection, TLS or timeout failure.
    #[error("could not reach {url}: {reason}")]
    Unreachable {
        /// Where.
        url: String,
        /// What the transport said.
        reason: String,
    },
    /// The body exceeded [`MAX_RESPONSE_BYTES`].
    #[error("the response from {0} is larger than 512 KiB")]
    TooLarge(String),
}

/// `https`, or `http` on a loopback host.
fn secure_scheme(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => is_loopback(url),
        _ => false,
    }
}

/// Checks that `raw` is an absolute `https` URL, or `http` on a loopback host.
pub fn check_url(field: &str, raw: &str) -> Result<Url> {
    let url = Url::parse(raw).map_err(|e| {
        Error::invalid(
            ErrorCode::InvalidUpstreamUrl,
            field,
            format!("'{raw}' is not an absolute URL ({e})"),
        )
    })?;
    if !secure_scheme(&url) || url.host_str().is_none() {
        return Err(Error::invalid(
            ErrorCode::InvalidUpstreamUrl,
            field,
            format!(
                "'{raw}' must use https (plain http is allowed only on 127.0.0.1, ::1 and localhost)"
            ),
        ));
    }
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            ErrorCode::InvalidUpstreamUrl,
            field,
            format!("'{raw}' must not carry a fragment or credentials"),
        ));
    }
    Ok(url)
}

/// The client Tessera uses toward IdPs. Cheap to clone.
#[derive(Debug, Clone)]
pub struct UpstreamHttp {
    client: reqwest::Client,
}

impl UpstreamHttp {
    /// A client with Tessera's upstream rules.
    pub fn new() -> Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("Tessera/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(Error::internal)?;
        Ok(Self { client })
    }

    /// Sends `request` and reads the whole (capped) response.
    pub async fn execute(
        &self,
        request: HttpRequest,
    ) -> std::result::Result<HttpResponse, UpstreamHttpError> {
        let url = request.uri().to_string();
        let parsed = Url::parse(&url).map_err(|_| UpstreamHttpError::InsecureUrl(url.clone()))?;
        if !secure_scheme(&parsed) {
            return Err(UpstreamHttpError::InsecureUrl(url));
        }
        let unreachable = |e: reqwest::Error| UpstreamHttpError::Unreachable {
            url: url.clone(),
            reason: e.without_url().to_string(),
        };
        let (parts, body) = request.into_parts();
        let mut outgoing = self.client.request(parts.method, parsed).body(body);
        for (name, value) in &parts.headers {
            outgoing = outgoing.header(name, value);
        }
        let mut response = outgoing.send().await.map_err(unreachable)?;
        let mut builder =
            openidconnect::http::Response::builder().status(response.status().as_u16());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(UpstreamHttpError::TooLarge(url));
            }
            bytes.extend_from_slice(&chunk);
        }
        builder
            .body(bytes)
            .map_err(|e| UpstreamHttpError::Unreachable {
                url: url.clone(),
                reason: e.to_string(),
            })
    }

    /// `GET url` with `Accept: application/json`, returning the status and the body.
    pub async fn get_json(
        &self,
        url: &Url,
        bearer: Option<&str>,
    ) -> std::result::Result<(u16, Vec<u8>), UpstreamHttpError> {
        self.get(url, "application/json", bearer).await
    }

    /// `GET url` for SAML metadata, returning the status and the body.
    pub async fn get_xml(
        &self,
        url: &Url,
    ) -> std::result::Result<(u16, Vec<u8>), UpstreamHttpError> {
        self.get(
            url,
            "application/samlmetadata+xml, application/xml;q=0.9, */*;q=0.1",
            None,
        )
        .await
    }

    async fn get(
        &self,
        url: &Url,
        accept: &str,
        bearer: Option<&str>,
    ) -> std::result::Result<(u16, Vec<u8>), UpstreamHttpError> {
        let mut request = openidconnect::http::Request::builder()
            .method(openidconnect::http::Method::GET)
            .uri(url.as_str())
            .header("accept", accept);
        if let Some(token) = bearer {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = request
            .body(Vec::new())
            .map_err(|_| UpstreamHttpError::InsecureUrl(url.to_string()))?;
        let response = self.execute(request).await?;
        Ok((response.status().as_u16(), response.into_body()))
    }
}

impl<'c> AsyncHttpClient<'c> for UpstreamHttp {
    type Error = UpstreamHttpError;
    type Future =
        Pin<Box<dyn Future<Output = std::result::Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.execute(request))
    }
}

#[cfg(test)]
mod tests {
    use super::check_url;

    #[test]
    fn only_https_or_loopback_http() {
        for ok in [
            "https://login.example.com/",
            "http://127.0.0.1:9000/idp",
            "http://[::1]:9000",
            "http://localhost:3000",
        ] {
            assert!(check_url("issuer", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://idp.example.com",
            "ftp://idp.example.com",
            "idp.example.com",
            "https://user:pw@idp.example.com",
            "http://10.0.0.1/",
        ] {
            let error = check_url("issuer", bad).unwrap_err();
            assert_eq!(error.field(), Some("issuer"), "{bad}");
        }
    }
}
