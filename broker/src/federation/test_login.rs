//! Dry-run test logins: an admin starts one for a connection (draft or active), someone signs
//! in at the IdP, and Tessera records what it received and what a real sign-in would do (the
//! claims, the mapped profile, the roles, the account action) or which check failed, with its
//! stable code. Nothing is created. Results live in the ephemeral store for 30 minutes.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entities::{ConnectionId, OrgId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Broker;
use crate::crypto::random_token;
use crate::error::{Error, ErrorCode, Result};
use crate::federation::ConnectionOwner;
use crate::federation::provision::{AccountAction, UpstreamProfile};
use crate::store::EphemeralStoreExt as _;

const TTL: Duration = Duration::from_secs(30 * 60);

/// A test login's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestStatus {
    /// Waiting for someone to sign in at the IdP.
    Pending,
    /// Every check passed.
    Succeeded,
    /// A check failed (see `error`).
    Failed,
}

/// A failed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestFailure {
    /// The stable error code (`oidc_audience_mismatch`, `role_mapping_denied`, …).
    pub code: String,
    /// What went wrong and how to fix it.
    pub message: String,
}

/// A dry-run sign-in and, once finished, its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestLogin {
    /// Its id.
    pub id: String,
    /// The connection under test.
    pub connection_id: ConnectionId,
    /// The connection's org.
    pub org_id: Option<OrgId>,
    /// Where it stands.
    pub status: TestStatus,
    /// When it was started.
    pub created_at: DateTime<Utc>,
    /// When it was finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// The claims received (ID token and userinfo), when the IdP answered.
    pub claims: Option<Value>,
    /// The profile mapped from them.
    pub profile: Option<UpstreamProfile>,
    /// The roles the org's rules grant (`None`: the org has no rules).
    pub roles: Option<Vec<String>>,
    /// What a real sign-in would do with the account.
    pub account_action: Option<AccountAction>,
    /// The failed check.
    pub error: Option<TestFailure>,
    /// SAML: the signed XML the IdP sent (what was verified and read).
    #[serde(default)]
    pub assertion_xml: Option<String>,
}

fn key(id: &str) -> String {
    format!("sso-test:{id}")
}

fn not_found() -> Error {
    Error::new(
        ErrorCode::TestLoginNotFound,
        "no such test login (they expire after 30 minutes)",
    )
}

impl Broker {
    /// Starts a test login for one of the owner's connections; open
    /// [`Self::test_login_url`] in a browser to run it.
    pub async fn create_test_login(
        &self,
        owner: ConnectionOwner<'_>,
        connection: ConnectionId,
    ) -> Result<TestLogin> {
        let connection = self.get_connection(owner, connection).await?;
        let test = TestLogin {
            id: random_token::<24>(),
            connection_id: connection.id,
            org_id: connection.org_id,
            status: TestStatus::Pending,
            created_at: self.now(),
            finished_at: None,
            claims: None,
            profile: None,
            roles: None,
            account_action: None,
            error: None,
            assertion_xml: None,
        };
        self.store().put_json(&key(&test.id), &test, TTL).await?;
        Ok(test)
    }

    /// Where a browser starts the test login.
    pub fn test_login_url(&self, test: &TestLogin) -> String {
        self.login_settings().url_of(&format!(
            "/sso/{}/start?test={}",
            test.connection_id, test.id
        ))
    }

    /// A test login of one of the owner's connections.
    pub async fn get_test_login(
        &self,
        owner: ConnectionOwner<'_>,
        connection: ConnectionId,
        id: &str,
    ) -> Result<TestLogin> {
        let connection = self.get_connection(owner, connection).await?;
        self.pending_test(id)
            .await?
            .filter(|t| t.connection_id == connection.id)
            .ok_or_else(not_found)
    }

    pub(crate) async fn pending_test(&self, id: &str) -> Result<Option<TestLogin>> {
        Ok(self.store().get_json(&key(id)).await?)
    }

    pub(crate) async fn save_test(&self, test: &TestLogin) -> Result<()> {
        self.store().put_json(&key(&test.id), test, TTL).await?;
        Ok(())
    }
}
