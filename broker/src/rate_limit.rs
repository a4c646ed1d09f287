//! Rate limits shared by every replica, counted in the ephemeral store.

use std::time::Duration;

use crate::Broker;
use crate::error::{Error, Result};

/// A fixed-window limit: at most `max` events per `window` for one subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Names the counter (`api_key_failures`); part of the store key.
    pub name: &'static str,
    /// Events allowed per window.
    pub max: u64,
    /// Window length.
    pub window: Duration,
}

/// Failed API-key checks allowed per client IP per minute.
pub const API_KEY_FAILURES_PER_IP: Limit = Limit {
    name: "api_key_failures",
    max: 20,
    window: Duration::from_secs(60),
};

impl Broker {
    /// Counts one event against `limit` for `subject` (an IP, an email hash…); fails with
    /// `rate_limited` and the time until the window resets once the limit is exceeded.
    pub async fn count_against(&self, limit: Limit, subject: &str) -> Result<()> {
        let key = format!("rl:{}:{subject}", limit.name);
        let counter = self.store().hit(&key, limit.window).await?;
        if counter.count > limit.max {
            // Round up, so a client that waits Retry-After seconds is never refused again.
            let secs = counter.resets_in.as_millis().div_ceil(1000).max(1) as u64;
            return Err(Error::rate_limited(Duration::from_secs(secs)));
        }
        Ok(())
    }
}

/// DNS verification lookups allowed per organization per ten minutes.
pub const DNS_CHECKS_PER_ORG: Limit = Limit {
    name: "dns_checks",
    max: 30,
    window: Duration::from_secs(600),
};

/// Failed app authentications (token, introspection, revocation endpoints) per client IP per
/// minute.
pub const CLIENT_AUTH_FAILURES_PER_IP: Limit = Limit {
    name: "client_auth_failures",
    max: 20,
    window: Duration::from_secs(60),
};

/// API-key checks that find no live key, per asking app per minute.
pub const API_KEY_CHECKS_PER_CLIENT: Limit = Limit {
    name: "api_key_checks",
    max: 100,
    window: Duration::from_secs(60),
};

/// Registrations without an initial access token, per client IP per hour.
pub const REGISTRATIONS_PER_IP: Limit = Limit {
    name: "registrations",
    max: 20,
    window: Duration::from_secs(3600),
};

/// Sign-in, consent and device transactions (each held in the store for minutes) opened per
/// client IP per minute.
pub const SIGN_IN_TRANSACTIONS_PER_IP: Limit = Limit {
    name: "sign_in_transactions",
    max: 60,
    window: Duration::from_secs(60),
};

/// Failed SCIM token checks allowed per client IP per minute.
pub const SCIM_TOKEN_FAILURES_PER_IP: Limit = Limit {
    name: "scim_token_failures",
    max: 20,
    window: Duration::from_secs(60),
};
