//! Revoking a whole grant: its refresh-token family in the database, and a marker in the
//! ephemeral store that makes its still-unexpired access tokens fail introspection and
//! userinfo (JWTs cannot be recalled from resource servers that verify them offline; short
//! lifetimes bound that window). The marker lives as long as a family can, and the refresh
//! grant checks it too, so a token a concurrent request inserted after the family was revoked
//! (which the `UPDATE` could not see) is refused when used.

use entities::{TokenFamilyId, refresh_token};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::Broker;
use crate::error::Result;

fn revoked_key(grant: TokenFamilyId) -> String {
    format!("grant-revoked:{grant}")
}

impl Broker {
    /// Revokes every refresh token of the grant and marks its access tokens revoked.
    pub(crate) async fn revoke_grant(&self, grant: TokenFamilyId) -> Result<()> {
        refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RevokedAt, Expr::value(self.now()))
            .filter(refresh_token::Column::FamilyId.eq(grant))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(self.db())
            .await?;
        let marker_ttl = self.provider().refresh_absolute_ttl;
        self.store()
            .put(&revoked_key(grant), b"1", marker_ttl)
            .await?;
        Ok(())
    }

    /// Whether the grant an access token came from has been revoked.
    pub(crate) async fn grant_revoked(&self, grant: &str) -> Result<bool> {
        let Ok(grant) = grant.parse::<TokenFamilyId>() else {
            return Ok(false);
        };
        Ok(self.store().get(&revoked_key(grant)).await?.is_some())
    }
}
