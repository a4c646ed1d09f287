//! What an admin registers at the IdP before the connection exists: the wizard shows the
//! redirect URI first (the IdP asks for it when the app is created there), so the connection's
//! id is chosen here and handed back at creation. Ids stay UUIDv7 (lists page by id), so a
//! chosen id must be one this instance issued recently.

use chrono::{DateTime, Duration, Utc};
use entities::{ConnectionId, ConnectionKind};

use crate::Broker;
use crate::error::{Error, ErrorCode, Result};

/// How long an id handed out for a connection stays usable for creating it.
const ID_VALIDITY: Duration = Duration::days(30);
/// Clock difference tolerated between replicas.
const ID_SKEW: Duration = Duration::minutes(5);

/// The values to register at the IdP for a connection about to be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionEndpoints {
    /// The id to create the connection with.
    pub id: ConnectionId,
    /// OIDC: the redirect URI.
    pub redirect_uri: Option<String>,
    /// SAML: the SP entity ID (the IdP's "Identifier" / "Audience URI").
    pub sp_entity_id: Option<String>,
    /// SAML: the ACS URL (the IdP's "Reply URL" / "Single sign-on URL").
    pub acs_url: Option<String>,
}

fn invalid_id(message: &str) -> Error {
    Error::invalid(ErrorCode::InvalidConnection, "id", message.to_owned())
}

/// Checks an id given at creation: a UUIDv7 issued within the last 30 days.
pub(crate) fn chosen_id(id: ConnectionId, now: DateTime<Utc>) -> Result<ConnectionId> {
    let issued = id
        .as_uuid()
        .get_timestamp()
        .filter(|_| id.as_uuid().get_version_num() == 7)
        .and_then(|t| {
            let (secs, nanos) = t.to_unix();
            DateTime::from_timestamp(i64::try_from(secs).ok()?, nanos)
        })
        .ok_or_else(|| invalid_id("id must be one handed out by connection-endpoints"))?;
    if issued > now + ID_SKEW || issued < now - ID_VALIDITY {
        return Err(invalid_id(
            "this id is older than 30 days; ask connection-endpoints for a new one",
        ));
    }
    Ok(id)
}

impl Broker {
    /// The values to register at the IdP for a connection about to be created: for `id` when
    /// the admin already has one (handed out earlier, so a reloaded wizard shows the same
    /// redirect URI), else for a fresh id.
    pub fn connection_endpoints(
        &self,
        kind: ConnectionKind,
        id: Option<ConnectionId>,
    ) -> Result<ConnectionEndpoints> {
        let id = match id {
            Some(given) => chosen_id(given, self.now())?,
            None => ConnectionId::new(),
        };
        match kind {
            ConnectionKind::Oidc => Ok(ConnectionEndpoints {
                id,
                redirect_uri: Some(self.oidc_redirect_uri(id)),
                sp_entity_id: None,
                acs_url: None,
            }),
            ConnectionKind::Saml => {
                let urls = self.saml_sp_urls(id);
                Ok(ConnectionEndpoints {
                    id,
                    redirect_uri: None,
                    sp_entity_id: Some(urls.entity_id),
                    acs_url: Some(urls.acs_url),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v7_at(at: DateTime<Utc>) -> ConnectionId {
        let ts =
            uuid::Timestamp::from_unix(uuid::NoContext, u64::try_from(at.timestamp()).unwrap(), 0);
        ConnectionId(uuid::Uuid::new_v7(ts))
    }

    #[test]
    fn only_recent_v7_ids_are_taken() {
        let now = DateTime::parse_from_rfc3339("2026-12-03T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        for ok in [now, now - Duration::days(29), now + Duration::minutes(4)] {
            assert!(chosen_id(v7_at(ok), now).is_ok(), "{ok}");
        }
        for refused in [
            v7_at(now - Duration::days(31)),
            v7_at(now + Duration::hours(1)),
            ConnectionId(uuid::Uuid::new_v4()),
            ConnectionId(uuid::Uuid::nil()),
        ] {
            let err = chosen_id(refused, now).unwrap_err();
            assert_eq!(err.field(), Some("id"), "{refused}");
        }
    }
}
