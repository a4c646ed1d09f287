//! The `domains` table: email domains claimed, and possibly verified, by an organization.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::id::{DomainId, OrgId};

/// How a domain's ownership was proven.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum VerificationMethod {
    /// The org published the verification token in a DNS TXT record.
    #[sea_orm(string_value = "dns_txt")]
    DnsTxt,
    /// An instance admin verified it by hand.
    #[sea_orm(string_value = "manual")]
    Manual,
}

/// A domain claimed by an org. Verified domains are unique across orgs (partial unique index).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "domains")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: DomainId,
    /// The claiming org.
    pub org_id: OrgId,
    /// Lower-case domain name; unique per org, and across orgs once verified.
    pub domain: String,
    /// Whether ownership has been proven.
    pub verified: bool,
    /// Value the org must publish in DNS to prove ownership.
    pub verification_token: String,
    /// How ownership was proven; `None` until verified.
    pub verification_method: Option<VerificationMethod>,
    /// When ownership was proven.
    pub verified_at: Option<DateTimeUtc>,
    /// When the domain was claimed.
    pub created_at: DateTimeUtc,
}

/// Foreign keys of `domains`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The claiming org (`ON DELETE CASCADE`).
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrgId",
        to = "super::organization::Column::Id",
        on_delete = "Cascade"
    )]
    Organization,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
