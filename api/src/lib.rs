//! The `tessera` binary as a library: configuration, command line, HTTP surfaces and the
//! OpenAPI document. Handlers are thin: they extract, call one broker function, map the error.

pub mod account;
pub mod admin_session;
pub mod browser;
pub mod cli;
pub mod config;
pub mod console;
pub mod error;
pub mod extract;
pub mod fallback;
pub mod json;
pub mod login;
pub mod memory;
pub mod oauth;
pub mod openapi;
pub mod ops;
pub mod query;
pub mod scim;
pub mod server;
pub mod session;
pub mod sso;
pub mod telemetry;
pub mod v1;
pub mod worker_io;

pub use crate::config::Config;
pub use crate::server::{RunningServer, start, start_with};
