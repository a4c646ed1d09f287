//! End to end: the real `tessera` binary against software nobody here wrote.

mod federation;
mod openid_client;
mod passkeys;
