//! End to end: the real `tessera` binary against software nobody here wrote.

mod browser;
mod console;
mod federation;
mod openid_client;
mod passkeys;
mod saml;
mod schemathesis;
mod scim;
mod second_factor;

/// A child process killed (and reaped) when dropped, so a failing test leaves nothing behind.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
