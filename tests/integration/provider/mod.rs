//! The OpenID Connect provider: apps, keys, discovery and the grants.

mod client_credentials;
mod clients;
mod discovery;
mod introspection;
mod keys;
