//! The `refresh_tokens` table: hashed refresh tokens, grouped in rotation families.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::{ClientId, OrgId, RefreshTokenId, SessionId, TokenFamilyId, UserId};

/// A refresh token; rotating it marks this one `rotated_at` and issues one in the same family.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: RefreshTokenId,
    /// SHA-256 of the token, unique.
    #[sea_orm(column_type = "Blob", unique)]
    pub token_hash: Vec<u8>,
    /// The rotation family; reuse of a rotated token revokes the whole family.
    pub family_id: TokenFamilyId,
    /// The app the token was issued to.
    pub client_id: ClientId,
    /// The user, if the grant was on behalf of one.
    pub user_id: Option<UserId>,
    /// The org the token is scoped to, if any.
    pub org_id: Option<OrgId>,
    /// The browser session it came from; cleared if that session row is deleted.
    pub session_id: Option<SessionId>,
    /// Granted scope (space-separated).
    #[sea_orm(column_type = "Text")]
    pub scope: String,
    /// When the token was issued.
    pub created_at: DateTimeUtc,
    /// When this token expires.
    pub expires_at: DateTimeUtc,
    /// When the family expires, however often it rotates.
    pub absolute_expires_at: DateTimeUtc,
    /// When the token was exchanged for its successor.
    pub rotated_at: Option<DateTimeUtc>,
    /// When the token was revoked.
    pub revoked_at: Option<DateTimeUtc>,
    /// When the user authenticated for the grant.
    pub auth_time: Option<DateTimeUtc>,
    /// Authentication methods of the grant (JSON array).
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub amr: Option<Json>,
    /// Authentication context class of the grant.
    pub acr: Option<String>,
    /// Resource indicators of the grant (JSON array), the access tokens' audiences.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub resources: Option<Json>,
}

/// Foreign keys of `refresh_tokens`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The app (`ON DELETE CASCADE`).
    #[sea_orm(
        belongs_to = "super::client::Entity",
        from = "Column::ClientId",
        to = "super::client::Column::Id",
        on_delete = "Cascade"
    )]
    Client,
    /// The user, if any (`ON DELETE CASCADE`).
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
    /// The org, if any (`ON DELETE CASCADE`).
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrgId",
        to = "super::organization::Column::Id",
        on_delete = "Cascade"
    )]
    Organization,
    /// The session, if any (`ON DELETE SET NULL`).
    #[sea_orm(
        belongs_to = "super::session::Entity",
        from = "Column::SessionId",
        to = "super::session::Column::Id",
        on_delete = "SetNull"
    )]
    Session,
}

impl Related<super::client::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Client.def()
    }
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
