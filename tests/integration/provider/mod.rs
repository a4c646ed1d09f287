//! The OpenID Connect provider: apps, keys, discovery and the grants.

mod authorization_code;
mod client_credentials;
mod clients;
mod device;
mod discovery;
pub mod flow;
mod introspection;
mod keys;
mod logout;
mod organizations;
mod refresh;
mod registration;
mod sign_in;
mod userinfo;
