//! The integration suite: one binary, the real application in-process on port 0, a fresh
//! database and store per test. Backends follow the environment (see `tessera_tests`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_keys;
mod audit;
mod bad_input;
mod binary;
mod concurrency;
mod console;
mod docs;
mod domains;
mod e2e;
mod federation;
mod login;
mod memberships;
mod openapi;
mod ops;
mod organizations;
mod provider;
mod replicas;
mod saml;
mod scim;
mod store;
