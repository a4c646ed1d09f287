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

impl KillOnDrop {
    /// Waits for the process to exit, polling so the test's runtime keeps serving the server;
    /// `None` once `timeout` has passed since `started` (the process is killed on drop).
    async fn wait_until(
        &mut self,
        started: std::time::Instant,
        timeout: std::time::Duration,
    ) -> Option<std::process::ExitStatus> {
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return Some(status);
            }
            if started.elapsed() > timeout {
                return None;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}
