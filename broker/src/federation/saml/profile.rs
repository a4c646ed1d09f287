//! A verified assertion as the protocol-neutral [`UpstreamProfile`]: every attribute becomes a
//! claim under its SAML name (one value: a string; several: a list), and the profile fields
//! plus the `groups` claim that role rules read are filled from the connection's attribute
//! names, so rules work alike for OIDC and SAML IdPs.

use serde_json::{Map, Value};

use crate::federation::UpstreamProfile;
use crate::federation::saml::response::VerifiedAssertion;
use crate::federation::saml::settings::SamlSettings;

const EMAIL_FORMAT: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

fn first<'a>(assertion: &'a VerifiedAssertion, names: &[String]) -> Option<&'a Vec<String>> {
    names.iter().find_map(|name| {
        assertion
            .attributes
            .iter()
            .find(|(n, values)| n == name && !values.is_empty())
            .map(|(_, values)| values)
    })
}

fn text(assertion: &VerifiedAssertion, names: &[String]) -> Option<String> {
    first(assertion, names)
        .and_then(|values| values.first())
        .map(|v| v.trim().chars().take(256).collect::<String>())
        .filter(|v| !v.is_empty())
}

/// The profile of a verified assertion.
pub fn profile(assertion: &VerifiedAssertion, settings: &SamlSettings) -> UpstreamProfile {
    let names = &settings.attributes;
    let mut claims = Map::new();
    for (name, values) in &assertion.attributes {
        let value = match values.as_slice() {
            [one] => Value::from(one.clone()),
            many => Value::from(many.to_vec()),
        };
        claims.insert(name.clone(), value);
    }
    let email = text(assertion, &names.email)
        .or_else(|| {
            (assertion.name_id_format.as_deref() == Some(EMAIL_FORMAT)
                || assertion.name_id.contains('@'))
            .then(|| assertion.name_id.clone())
        })
        .and_then(|raw| crate::validate::email("email", &raw).ok());
    let groups = first(assertion, &names.groups).cloned().unwrap_or_default();
    let profile_claims = [
        ("email", email.clone().map(Value::from)),
        ("name", text(assertion, &names.name).map(Value::from)),
        (
            "given_name",
            text(assertion, &names.given_name).map(Value::from),
        ),
        (
            "family_name",
            text(assertion, &names.family_name).map(Value::from),
        ),
        ("groups", Some(Value::from(groups))),
        ("name_id", Some(Value::from(assertion.name_id.clone()))),
        (
            "name_id_format",
            assertion.name_id_format.clone().map(Value::from),
        ),
        (
            "session_index",
            assertion.session_index.clone().map(Value::from),
        ),
        (
            "authn_context",
            assertion.authn_context.clone().map(Value::from),
        ),
    ];
    for (key, value) in profile_claims {
        if let Some(value) = value {
            claims.insert(key.to_owned(), value);
        }
    }
    let claims = Value::Object(claims);
    let field = |key: &str| claims.get(key).and_then(Value::as_str).map(str::to_owned);
    UpstreamProfile {
        subject: assertion.name_id.clone(),
        email_verified: email.is_some() && settings.trust_email,
        email,
        name: field("name"),
        given_name: field("given_name"),
        family_name: field("family_name"),
        amr: amr(assertion.authn_context.as_deref()),
        claims,
    }
}

/// RFC 8176 methods from the SAML authentication context class, where they say it.
fn amr(context: Option<&str>) -> Vec<String> {
    let Some(context) = context else {
        return Vec::new();
    };
    let class = context.rsplit(':').next().unwrap_or_default();
    let methods: &[&str] = match class {
        "Password" | "PasswordProtectedTransport" => &["pwd"],
        "X509" | "Smartcard" | "SmartcardPKI" => &["sc"],
        "MultiFactor" | "MultiFactorContract" => &["mfa"],
        _ => &[],
    };
    // Entra ID and ADFS report MFA with this class reference.
    if context == "http://schemas.microsoft.com/claims/multipleauthn" {
        return vec!["mfa".to_owned()];
    }
    methods.iter().map(|m| (*m).to_owned()).collect()
}
