//! The context a user grant runs in: which organization the tokens carry (and whether the
//! user may act there), and which apps a browser session has signed in to.

use std::collections::HashSet;
use std::sync::Mutex;

use entities::{ClientId, OrgId, SessionId, session_client};
use sea_orm::ActiveValue::Set;
use sea_orm::EntityTrait;

use super::client::Client;
use crate::Broker;
use crate::error::{Error, ErrorCode, Result};
use crate::session::AuthorizingSession;

/// Pairs this replica has already written to `session_clients`. A browser signed in to an app
/// asks for a code at every visit; the row is written on the first and never changes (it goes
/// only with its session or app), so the later ones skip the database write.
#[derive(Debug, Default)]
pub(crate) struct RememberedSessionClients(Mutex<HashSet<(SessionId, ClientId)>>);

/// Pairs kept at most; past that the set starts over (a forgotten pair is written again, which
/// changes nothing).
const MAX_REMEMBERED: usize = 100_000;

impl RememberedSessionClients {
    fn contains(&self, pair: (SessionId, ClientId)) -> bool {
        self.0.lock().is_ok_and(|pairs| pairs.contains(&pair))
    }

    fn insert(&self, pair: (SessionId, ClientId)) {
        if let Ok(mut pairs) = self.0.lock() {
            if pairs.len() >= MAX_REMEMBERED {
                pairs.clear();
            }
            pairs.insert(pair);
        }
    }
}

impl Broker {
    /// The organization the tokens will carry: the one the app is restricted to or asked for,
    /// else the one the user signed in through, else the user's only organization. The user
    /// must be an active member of it.
    pub(crate) async fn grant_org(
        &self,
        client: &Client,
        asked: Option<OrgId>,
        signed_in: &AuthorizingSession,
    ) -> Result<Option<OrgId>> {
        let session = &signed_in.session;
        if let (Some(restricted), Some(asked)) = (client.org_id, asked)
            && restricted != asked
        {
            return Err(Error::new(
                ErrorCode::AccessDenied,
                "this app belongs to another organization",
            ));
        }
        let wanted = client.org_id.or(asked).or(session.org_id);
        match wanted {
            Some(org) => {
                if self.active_roles(org, session.user_id).await?.is_none() {
                    return Err(Error::new(
                        ErrorCode::AccessDenied,
                        "you are not a member of the organization this app signs you in to",
                    ));
                }
                Ok(Some(org))
            }
            None => Ok(signed_in.only_org_id),
        }
    }

    /// Records that `client` got a code from `session` (for back-channel logout).
    pub(crate) async fn remember_session_client(
        &self,
        session: SessionId,
        client: ClientId,
    ) -> Result<()> {
        let remembered = self.remembered_session_clients();
        if remembered.contains((session, client)) {
            return Ok(());
        }
        session_client::Entity::insert(session_client::ActiveModel {
            session_id: Set(session),
            client_id: Set(client),
            created_at: Set(self.now()),
        })
        .on_conflict_do_nothing_on([
            session_client::Column::SessionId,
            session_client::Column::ClientId,
        ])
        .exec_without_returning(self.db())
        .await?;
        remembered.insert((session, client));
        Ok(())
    }
}
