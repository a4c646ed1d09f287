//! SCIM 2.0 (RFC 7643/7644) as a protocol, independent of the rest of Tessera: schemas and
//! their attribute definitions, the filter language, PATCH, list queries, responses and errors,
//! the discovery documents, and the storage trait the broker implements. Nothing here knows
//! about HTTP frameworks or databases.

pub mod discovery;
pub mod error;
pub mod eval;
pub mod filter;
pub mod patch;
pub mod query;
pub mod resource;
pub mod schema;
pub mod server;

pub use crate::error::{ScimError, ScimType};
pub use crate::resource::{ResourceKind, Stored};
