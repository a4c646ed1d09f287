//! OAuth request bodies and client authentication: `application/x-www-form-urlencoded` with no
//! parameter repeated (RFC 6749 §3.2; `resource` may repeat, RFC 8707), at most 16 KiB, and the
//! app's credentials from HTTP Basic or the body, never both (RFC 6749 §2.3).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE};
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine as _;
use broker::provider::grant::ClientAuth;
use broker::{Error, ErrorCode};
use futures::StreamExt as _;
use secrecy::SecretString;

use crate::error::OAuthError;

/// The largest form an OAuth endpoint accepts.
const MAX_FORM_BYTES: usize = 16 * 1024;
/// Parameters that may appear more than once.
const REPEATABLE: [&str; 1] = ["resource"];

fn invalid_request(message: impl Into<String>) -> OAuthError {
    OAuthError(Error::new(ErrorCode::InvalidRequest, message))
}

/// A parsed OAuth form.
#[derive(Debug, Default)]
pub struct OAuthForm {
    values: HashMap<String, Vec<String>>,
}

impl OAuthForm {
    /// Parses a urlencoded body.
    pub fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        let mut values: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(body) {
            let entry = values.entry(name.to_string()).or_default();
            if !entry.is_empty() && !REPEATABLE.contains(&name.as_ref()) {
                return Err(invalid_request(format!("parameter '{name}' is repeated")));
            }
            entry.push(value.into_owned());
        }
        Ok(Self { values })
    }

    /// A parameter's value; an empty value counts as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A required parameter.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| invalid_request(format!("parameter '{name}' is required")))
    }

    /// Every value of a repeatable parameter.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.values.get(name).cloned().unwrap_or_default()
    }
}

impl FromRequest for OAuthForm {
    type Error = OAuthError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, OAuthError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_form {
                return Err(invalid_request(
                    "send the parameters as application/x-www-form-urlencoded",
                ));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| invalid_request(format!("unreadable body: {e}")))?;
                if body.len() + chunk.len() > MAX_FORM_BYTES {
                    return Err(invalid_request("the request body is too large"));
                }
                body.extend_from_slice(&chunk);
            }
            Self::parse(&body)
        })
    }
}

/// An app that authenticated itself at an OAuth endpoint (token, introspection, revocation,
/// device authorization, API-key verification), with the rest of its form.
#[derive(Debug)]
pub struct AppClient {
    /// The authenticated app.
    pub client: broker::provider::client::Client,
    /// The request's parameters.
    pub form: OAuthForm,
}

impl FromRequest for AppClient {
    type Error = OAuthError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, OAuthError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let form = OAuthForm::from_request(&req, payload);
        Box::pin(async move {
            let form = form.await?;
            let state = req
                .app_data::<web::Data<crate::server::AppState>>()
                .cloned()
                .ok_or_else(|| {
                    OAuthError(Error::internal("application state is not registered"))
                })?;
            let auth = client_auth(&req, &form)?;
            let ip = crate::extract::client_ip(&req, state.config.trusted_proxy_hops);
            let client = state
                .broker
                .authenticate_client(&auth, ip.as_deref())
                .await?;
            Ok(Self { client, form })
        })
    }
}

/// Reads the app's credentials: HTTP Basic (id and secret form-urlencoded, RFC 6749 §2.3.1)
/// or `client_id`/`client_secret` in the body; using both is refused.
pub fn client_auth(req: &HttpRequest, form: &OAuthForm) -> Result<ClientAuth, OAuthError> {
    let basic = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, encoded)| encoded.trim());
    if let Some(encoded) = basic {
        if form.get("client_secret").is_some() {
            return Err(invalid_request(
                "use one client authentication method, not two",
            ));
        }
        let invalid_client = || {
            OAuthError(Error::new(
                ErrorCode::InvalidClient,
                "malformed Basic credentials",
            ))
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(invalid_client)?;
        let (id, secret) = decoded.split_once(':').ok_or_else(invalid_client)?;
        let decode = |part: &str| {
            url::form_urlencoded::parse(format!("v={part}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        };
        let client_id = decode(id).ok_or_else(invalid_client)?;
        if form
            .get("client_id")
            .is_some_and(|body_id| body_id != client_id)
        {
            return Err(invalid_request(
                "client_id in the body differs from Basic credentials",
            ));
        }
        return Ok(ClientAuth::Basic {
            client_id,
            secret: SecretString::from(decode(secret).ok_or_else(invalid_client)?),
        });
    }
    let client_id = form
        .get("client_id")
        .ok_or_else(|| {
            OAuthError(Error::new(
                ErrorCode::InvalidClient,
                "no client credentials",
            ))
        })?
        .to_owned();
    Ok(match form.get("client_secret") {
        Some(secret) => ClientAuth::Post {
            client_id,
            secret: SecretString::from(secret.to_owned()),
        },
        None => ClientAuth::Public { client_id },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn repeated_parameters_are_refused_except_resource() {
        assert!(OAuthForm::parse(b"grant_type=a&grant_type=b").is_err());
        let form = OAuthForm::parse(b"resource=https%3A%2F%2Fa&resource=https%3A%2F%2Fb").unwrap();
        assert_eq!(form.all("resource"), ["https://a", "https://b"]);
        let form = OAuthForm::parse(b"scope=&x=1").unwrap();
        assert_eq!(form.get("scope"), None);
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let form = OAuthForm::default();
        let creds = base64::engine::general_purpose::STANDARD.encode("my%20app:p%3Ass%2Bw");
        let req = TestRequest::default()
            .insert_header((AUTHORIZATION, format!("Basic {creds}")))
            .to_http_request();
        match client_auth(&req, &form).unwrap() {
            ClientAuth::Basic { client_id, secret } => {
                use secrecy::ExposeSecret as _;
                assert_eq!(client_id, "my app");
                assert_eq!(secret.expose_secret(), "p:ss+w");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn two_methods_at_once_are_refused() {
        let form = OAuthForm::parse(b"client_id=a&client_secret=b").unwrap();
        let creds = base64::engine::general_purpose::STANDARD.encode("a:b");
        let req = TestRequest::default()
            .insert_header((AUTHORIZATION, format!("Basic {creds}")))
            .to_http_request();
        assert!(client_auth(&req, &form).is_err());
    }
}
