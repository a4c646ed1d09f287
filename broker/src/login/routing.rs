//! Home-realm discovery: an email whose domain an organization has verified, and which has an
//! active SSO connection, signs in at that organization's IdP instead of locally.

use entities::connection::{self, ConnectionStatus};
use entities::{ConnectionId, OrgId, domain, organization};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::Broker;
use crate::error::Result;

/// Where an email address signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInRoute {
    /// On Tessera's own pages (link, passkey, password).
    Local,
    /// At the organization's IdP.
    Federated {
        /// The organization that verified the domain.
        org_id: OrgId,
        /// Its slug.
        org_slug: String,
        /// The active connection to use.
        connection_id: ConnectionId,
        /// Whether the organization refuses local sign-in for its domains.
        require_sso: bool,
    },
}

impl Broker {
    /// The organization's active SSO connection (the oldest, when it has several).
    pub(crate) async fn active_connection_of(&self, org: OrgId) -> Result<Option<ConnectionId>> {
        Ok(connection::Entity::find()
            .filter(connection::Column::OrgId.eq(org))
            .filter(connection::Column::Status.eq(ConnectionStatus::Active))
            .order_by_asc(connection::Column::CreatedAt)
            .one(self.db())
            .await?
            .map(|c| c.id))
    }

    /// When `email`'s domain is verified by an organization that requires SSO and has an active
    /// connection, that connection: local sign-in is refused for the address.
    pub(crate) async fn sso_required_for(&self, email: &str) -> Result<Option<ConnectionId>> {
        Ok(match self.sign_in_route(email).await? {
            SignInRoute::Federated {
                connection_id,
                require_sso: true,
                ..
            } => Some(connection_id),
            _ => None,
        })
    }

    /// Decides where `email` (already validated) signs in.
    pub async fn sign_in_route(&self, email: &str) -> Result<SignInRoute> {
        let Some((_, host)) = email.rsplit_once('@') else {
            return Ok(SignInRoute::Local);
        };
        let Some(claimed) = domain::Entity::find()
            .filter(domain::Column::Domain.eq(host))
            .filter(domain::Column::Verified.eq(true))
            .one(self.db())
            .await?
        else {
            return Ok(SignInRoute::Local);
        };
        let Some(connection_id) = self.active_connection_of(claimed.org_id).await? else {
            return Ok(SignInRoute::Local);
        };
        let org = organization::Entity::find_by_id(claimed.org_id)
            .one(self.db())
            .await?;
        Ok(SignInRoute::Federated {
            org_id: claimed.org_id,
            org_slug: org.as_ref().map(|o| o.slug.clone()).unwrap_or_default(),
            connection_id,
            require_sso: org.is_some_and(|o| o.require_sso),
        })
    }
}
