//! `consents`: scopes a user allowed a third-party app.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::{ClientId, UserId};

/// A user's consent to one app.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "consents")]
pub struct Model {
    /// The user.
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: UserId,
    /// The app.
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: ClientId,
    /// Scopes granted (JSON array).
    #[sea_orm(column_type = "JsonBinary")]
    pub scopes: Json,
    /// Resources (access-token audiences) allowed (JSON array).
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub resources: Option<Json>,
    /// Organizations (ids) the app may act in for the user (JSON array).
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub org_ids: Option<Json>,
    /// When consent was first given.
    pub created_at: DateTimeUtc,
    /// When it last widened.
    pub updated_at: DateTimeUtc,
}

/// Relations of `consents`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The user.
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
    /// The app.
    #[sea_orm(
        belongs_to = "super::client::Entity",
        from = "Column::ClientId",
        to = "super::client::Column::Id",
        on_delete = "Cascade"
    )]
    Client,
}

impl ActiveModelBehavior for ActiveModel {}
