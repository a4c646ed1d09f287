//! The `identities` table: upstream identities, keyed by (connection, subject), linked to users.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::{ConnectionId, IdentityId, OrgId, UserId};

/// An upstream identity linked to a user; unique per (connection, subject).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "identities")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: IdentityId,
    /// The linked user.
    pub user_id: UserId,
    /// The connection's org; `None` for instance-level connections.
    pub org_id: Option<OrgId>,
    /// The connection the identity signs in through.
    pub connection_id: ConnectionId,
    /// The IdP's stable subject (OIDC `sub`, SAML NameID).
    pub subject: String,
    /// Claims or attributes received at the last sign-in, opaque JSON.
    #[sea_orm(column_type = "JsonBinary")]
    pub raw_claims: Json,
    /// When the identity was linked.
    pub created_at: DateTimeUtc,
    /// When the identity was last used to sign in.
    pub last_login_at: Option<DateTimeUtc>,
}

/// Foreign keys of `identities`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The linked user (`ON DELETE CASCADE`).
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
    /// The connection (`ON DELETE CASCADE`).
    #[sea_orm(
        belongs_to = "super::connection::Entity",
        from = "Column::ConnectionId",
        to = "super::connection::Column::Id",
        on_delete = "Cascade"
    )]
    Connection,
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

impl Related<super::connection::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Connection.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
