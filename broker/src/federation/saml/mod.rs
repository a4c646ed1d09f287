//! SAML 2.0 federation: Tessera is the service provider of each SAML connection. Admins paste
//! the IdP's metadata or give its URL (`metadata`), Tessera generates the connection's SP keys
//! and metadata (`sp`), sends AuthnRequests over HTTP-Redirect (`request`), and checks what
//! comes back to the ACS (`response`, `checks`, `decrypt`, on the strict XML reader in `xml`); the
//! verified assertion becomes the shared [`UpstreamProfile`](crate::federation::UpstreamProfile)
//! (`profile`), after which provisioning, role rules and test logins are the same as for OIDC.

mod checks;
pub mod decrypt;
pub mod metadata;
pub mod profile;
pub mod request;
pub mod response;
pub mod settings;
pub mod sp;
pub mod xml;

mod acs;
mod admin;

pub(crate) use self::acs::metadata_missing;
pub use self::acs::{SamlAccepted, SamlPost};
pub use self::admin::{NewSamlConnection, SamlChanges, SamlOptions, Warning};
pub use self::settings::{AttributeNames, IdpCertificate, SamlSettings};
