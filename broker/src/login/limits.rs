//! Abuse limits for the login pages: per-IP and per-address rate limits, and the per-account
//! soft lock that backs off after repeated failures. All counted in the ephemeral store, so
//! every replica sees the same numbers.

use std::time::Duration;

use entities::UserId;

use crate::Broker;
use crate::crypto::{base64url, sha256};
use crate::error::{Error, ErrorCode, Result};
use crate::rate_limit::Limit;
use crate::store::EphemeralStoreExt as _;

/// Emails (links and codes) sent per client IP per ten minutes.
pub const EMAILS_PER_IP: Limit = Limit {
    name: "login_emails_ip",
    max: 10,
    window: Duration::from_secs(600),
};

/// Emails sent to one address per hour.
pub const EMAILS_PER_ADDRESS: Limit = Limit {
    name: "login_emails_address",
    max: 5,
    window: Duration::from_secs(3600),
};

/// Credential checks (password, code, passkey, second factor) per client IP per ten minutes.
pub const CREDENTIAL_CHECKS_PER_IP: Limit = Limit {
    name: "login_checks_ip",
    max: 50,
    window: Duration::from_secs(600),
};

/// Wrong codes allowed for one emailed code before it is thrown away.
pub const CODE_ATTEMPTS: u64 = 5;

/// Failures an account takes before it is soft-locked.
const FAILURES_BEFORE_LOCK: u64 = 5;
/// The window failures are counted in.
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// The first lock; each further failure doubles it, up to [`MAX_LOCK`].
const FIRST_LOCK: Duration = Duration::from_secs(30);
const MAX_LOCK: Duration = Duration::from_secs(15 * 60);

/// The rate-limit subject for an email address (hashed: addresses are personal data).
pub(crate) fn address_subject(email: &str) -> String {
    base64url(&sha256(email.as_bytes())[..16])
}

fn lock_key(user: UserId) -> String {
    format!("login_lock:{user}")
}

impl Broker {
    /// Fails with `account_locked` (and the time left) while the account is soft-locked.
    pub(crate) async fn check_not_locked(&self, user: UserId) -> Result<()> {
        let until: Option<i64> = self.store().get_json(&lock_key(user)).await?;
        if let Some(until) = until {
            let left = until - self.now().timestamp();
            if left > 0 {
                return Err(Error::new(
                    ErrorCode::AccountLocked,
                    "too many failed attempts for this account; try again later",
                )
                .with_retry_after(Duration::from_secs(left as u64)));
            }
        }
        Ok(())
    }

    /// Counts a failure; from the fifth in a window on, locks the account for a doubling time.
    pub(crate) async fn count_failure(&self, user: UserId) -> Result<()> {
        let counter = self
            .store()
            .hit(&format!("login_failures:{user}"), FAILURE_WINDOW)
            .await?;
        if counter.count >= FAILURES_BEFORE_LOCK {
            let doublings = (counter.count - FAILURES_BEFORE_LOCK).min(10) as u32;
            let lock = FIRST_LOCK.saturating_mul(1 << doublings).min(MAX_LOCK);
            let until = self.now().timestamp() + lock.as_secs() as i64;
            self.store().put_json(&lock_key(user), &until, lock).await?;
        }
        Ok(())
    }

    /// Forgets failures after a successful sign-in.
    pub(crate) async fn clear_failures(&self, user: UserId) -> Result<()> {
        self.store()
            .delete(&format!("login_failures:{user}"))
            .await?;
        self.store().delete(&lock_key(user)).await?;
        Ok(())
    }
}
