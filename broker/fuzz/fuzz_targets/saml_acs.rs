//! Feeds arbitrary documents to the SAML ACS checks (`broker::federation::saml::response`):
//! reading (base64, size, DTD refusal, comment removal, the strict XML reader, the status) and
//! then verification (xmlsec signature reduction, decryption, every assertion check) against
//! a connection with a real certificate and key. Each input must end in `Ok` or a SAML error
//! code, never a panic, a hang or an internal error.
//!
//! Run `scripts/fuzz` (every target for a bounded time, starting from the seeds in
//! `fuzz/seeds/saml_acs/`), or from `broker/`: `RUSTC_BOOTSTRAP=1 cargo fuzz run saml_acs --
//! -max_total_time=300 -dict=fuzz/saml.dict`.

#![no_main]

use std::sync::LazyLock;

use base64::Engine as _;
use broker::ErrorKind;
use broker::federation::saml::response::{Expectations, read, verify};
use broker::federation::saml::settings::{AttributeNames, IdpCertificate, SamlSettings};
use broker::federation::saml::sp::SpUrls;
use libfuzzer_sys::fuzz_target;
use openssl::pkey::{PKey, Private};

struct Fixture {
    settings: SamlSettings,
    sp: SpUrls,
    key: PKey<Private>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let key = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).expect("rsa")).expect("pkey");
    let mut name = openssl::x509::X509NameBuilder::new().expect("name");
    name.append_entry_by_text("CN", "fuzz").expect("cn");
    let name = name.build();
    let mut cert = openssl::x509::X509::builder().expect("builder");
    cert.set_subject_name(&name).expect("subject");
    cert.set_issuer_name(&name).expect("issuer");
    cert.set_pubkey(&key).expect("pubkey");
    let now = openssl::asn1::Asn1Time::days_from_now(0).expect("now");
    let later = openssl::asn1::Asn1Time::days_from_now(365).expect("later");
    cert.set_not_before(&now).expect("nb");
    cert.set_not_after(&later).expect("na");
    cert.sign(&key, openssl::hash::MessageDigest::sha256()).expect("sign");
    let der = base64::engine::general_purpose::STANDARD
        .encode(cert.build().to_der().expect("der"));
    let certificate: IdpCertificate =
        broker::federation::saml::metadata::certificate("fuzz", &der).expect("certificate");
    let settings = SamlSettings {
        idp_entity_id: "https://idp.example/".into(),
        sso_url: "https://idp.example/sso".into(),
        certificates: vec![certificate],
        name_id_formats: vec![],
        name_id_format: None,
        idp_wants_signed_requests: false,
        sign_requests: false,
        metadata_url: None,
        metadata_fetched_at: chrono::Utc::now(),
        metadata_refresh_hours: 24,
        metadata_refresh_error: None,
        require_signed_assertions: true,
        require_encrypted_assertions: false,
        allow_idp_initiated: false,
        clock_skew_seconds: 120,
        trust_email: true,
        attributes: AttributeNames::default(),
        sp_signing_certificate: der.clone(),
        sp_encryption_certificate: der,
    };
    let sp = SpUrls {
        entity_id: "https://tessera.example/sso/saml/x".into(),
        acs_url: "https://tessera.example/sso/saml/x/acs".into(),
        metadata_url: "https://tessera.example/sso/saml/x/metadata".into(),
    };
    Fixture { settings, sp, key }
});

fuzz_target!(|data: &[u8]| {
    let fixture = &*FIXTURE;
    // The fuzzer explores documents; the form carries them base64-encoded.
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    let outcome = read(&encoded).and_then(|received| {
        verify(
            &received,
            &Expectations {
                settings: &fixture.settings,
                sp: &fixture.sp,
                request_id: Some("_request"),
                now: chrono::Utc::now(),
                decryption_key: &fixture.key,
            },
        )
    });
    if let Err(error) = outcome {
        assert_ne!(error.kind(), ErrorKind::Internal, "{error:?}");
    }
});
