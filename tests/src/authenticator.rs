//! A software passkey: answers WebAuthn options the way a browser and a platform authenticator
//! would (discoverable ES256 credentials, user verified, backed up, attestation `none`), and
//! lets a test say what the browser would never say: another origin, an old challenge.
//!
//! Real browsers are driven in `e2e/`; this one exists for the answers no honest browser sends.
//! (webauthn-authenticator-rs's `SoftPasskey` refuses resident keys and answers only with an
//! allow list, so it cannot do the usernameless ceremonies Tessera uses.)

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// User present, user verified, backup eligible, backed up.
const FLAGS: u8 = 0x01 | 0x04 | 0x08 | 0x10;
/// Attested credential data included (registration only).
const ATTESTED: u8 = 0x40;

struct Credential {
    id: Vec<u8>,
    key: SigningKey,
    rp_id: String,
    user_handle: String,
}

/// An authenticator holding the credentials it created, most recent last.
#[derive(Default)]
pub struct SoftAuthenticator {
    credentials: Vec<Credential>,
    counter: u32,
}

impl std::fmt::Debug for SoftAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftAuthenticator")
            .field("credentials", &self.credentials.len())
            .finish()
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn string_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {pointer} in the WebAuthn options {value}"))
}

fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "type": kind,
        "challenge": challenge,
        "origin": origin,
        "crossOrigin": false,
    }))
    .unwrap()
}

/// A CBOR byte-string header for `len` bytes (lengths up to 65535).
fn cbor_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    match bytes.len() {
        n if n < 24 => out.push(0x40 | n as u8),
        n if n < 256 => out.extend([0x58, n as u8]),
        n => {
            let n = u16::try_from(n).unwrap();
            out.push(0x59);
            out.extend(n.to_be_bytes());
        }
    }
    out.extend_from_slice(bytes);
}

fn cbor_text(out: &mut Vec<u8>, text: &str) {
    assert!(text.len() < 24);
    out.push(0x60 | text.len() as u8);
    out.extend_from_slice(text.as_bytes());
}

/// The credential's public key as a COSE_Key: EC2, ES256, P-256, x, y.
fn cose_key(key: &SigningKey) -> Vec<u8> {
    let point = key.verifying_key().to_sec1_point(false);
    let xy = &point.as_bytes()[1..];
    let mut out = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
    cbor_bytes(&mut out, &xy[..32]);
    out.push(0x22);
    cbor_bytes(&mut out, &xy[32..]);
    out
}

impl SoftAuthenticator {
    /// An authenticator with no credentials.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of the newest credential.
    pub fn credential_id(&self) -> Vec<u8> {
        self.credentials.last().expect("a credential").id.clone()
    }

    /// Answers `navigator.credentials.create()` for `options` (the server's
    /// `{"publicKey": …}`) as a browser at `origin` would; returns the JSON the page posts.
    pub fn register(&mut self, options: &Value, origin: &str) -> Value {
        let challenge = string_at(options, "/publicKey/challenge");
        let rp_id = string_at(options, "/publicKey/rp/id").to_owned();
        let user_handle = string_at(options, "/publicKey/user/id").to_owned();
        let seed = Sha256::digest(uuid::Uuid::new_v4().as_bytes());
        let key = SigningKey::from_slice(&seed).unwrap();
        let id = uuid::Uuid::new_v4().as_bytes().to_vec();

        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth_data.push(FLAGS | ATTESTED);
        auth_data.extend(0u32.to_be_bytes());
        auth_data.extend([0u8; 16]); // AAGUID: none
        auth_data.extend(u16::try_from(id.len()).unwrap().to_be_bytes());
        auth_data.extend(&id);
        auth_data.extend(cose_key(&key));

        let mut attestation = vec![0xa3];
        cbor_text(&mut attestation, "fmt");
        cbor_text(&mut attestation, "none");
        cbor_text(&mut attestation, "attStmt");
        attestation.push(0xa0);
        cbor_text(&mut attestation, "authData");
        cbor_bytes(&mut attestation, &auth_data);

        let client_data = client_data("webauthn.create", challenge, origin);
        self.credentials.push(Credential {
            id: id.clone(),
            key,
            rp_id,
            user_handle,
        });
        json!({
            "id": b64(&id),
            "rawId": b64(&id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&attestation),
                "clientDataJSON": b64(&client_data),
                "transports": ["internal"],
            },
            "extensions": {},
        })
    }

    /// Answers `navigator.credentials.get()` for `options` with the newest credential for its
    /// RP, signed, as a browser at `origin` would; returns the JSON the page posts.
    pub fn assert(&mut self, options: &Value, origin: &str) -> Value {
        let challenge = string_at(options, "/publicKey/challenge");
        let rp_id = string_at(options, "/publicKey/rpId");
        let credential = self
            .credentials
            .iter()
            .rev()
            .find(|c| c.rp_id == rp_id)
            .unwrap_or_else(|| panic!("no credential for {rp_id}"));
        self.counter += 1;
        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth_data.push(FLAGS);
        auth_data.extend(self.counter.to_be_bytes());
        let client_data = client_data("webauthn.get", challenge, origin);
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature: Signature = credential.key.sign(&signed);
        json!({
            "id": b64(&credential.id),
            "rawId": b64(&credential.id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(signature.to_der().as_bytes()),
                "userHandle": credential.user_handle,
            },
            "extensions": {},
        })
    }
}
