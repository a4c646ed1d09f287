//! SCIM 2.0 (RFC 7643/7644) as a protocol, independent of the rest of Tessera: schema URNs and
//! the error response. Resource models, the filter engine, PATCH and the storage trait the
//! broker implements grow here (see the SCIM issue); nothing in this crate knows about HTTP
//! frameworks or databases.

pub mod error;
pub mod schema;

pub use crate::error::{ScimError, ScimType};
