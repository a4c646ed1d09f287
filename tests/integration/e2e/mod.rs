//! End to end: the real `tessera` binary against software nobody here wrote.

mod openid_client;
mod passkeys;
