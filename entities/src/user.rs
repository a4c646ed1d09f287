//! The `users` table: people, global to the instance and members of any number of orgs.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::UserId;

/// Whether a user may sign in.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    /// May sign in.
    #[sea_orm(string_value = "active")]
    Active,
    /// May not sign in; sessions and tokens are revoked when this is set.
    #[sea_orm(string_value = "disabled")]
    Disabled,
}

/// A person.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: UserId,
    /// Lower-case email, unique when present.
    #[sea_orm(unique)]
    pub email: Option<String>,
    /// Whether the email was proven (magic link, or an IdP asserting it verified).
    pub email_verified: bool,
    /// Full display name.
    pub name: Option<String>,
    /// Given (first) name.
    pub given_name: Option<String>,
    /// Family (last) name.
    pub family_name: Option<String>,
    /// Whether the user may sign in.
    pub status: UserStatus,
    /// When the user was created.
    pub created_at: DateTimeUtc,
    /// When the row last changed.
    pub updated_at: DateTimeUtc,
    /// When the user last signed in by any method.
    pub last_login_at: Option<DateTimeUtc>,
}

/// No relations are navigated from a user; query children by their `user_id`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
