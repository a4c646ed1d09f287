//! End to end: the real `tessera` binary against software nobody here wrote.

mod browser;
mod console;
mod federation;
mod openid_client;
mod passkeys;
mod saml;
mod scim;
mod second_factor;
