//! `session_clients`: the apps a browser session signed in to.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::{ClientId, SessionId};

/// One app a session signed in to.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "session_clients")]
pub struct Model {
    /// The session.
    #[sea_orm(primary_key, auto_increment = false)]
    pub session_id: SessionId,
    /// The app.
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: ClientId,
    /// When the app first got a code from this session.
    pub created_at: DateTimeUtc,
}

/// Relations of `session_clients`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The session.
    #[sea_orm(
        belongs_to = "super::session::Entity",
        from = "Column::SessionId",
        to = "super::session::Column::Id",
        on_delete = "Cascade"
    )]
    Session,
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
