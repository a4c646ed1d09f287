//! Indexes the foreign keys that cascades and per-user lookups walk, so deleting an org or a
//! user, and listing a user's memberships or tokens, never scans a whole table.

use sea_orm_migration::prelude::*;

/// (table, column, index name) for every index this migration adds.
const INDEXES: &[(&str, &str, &str)] = &[
    ("memberships", "user_id", "idx_memberships_user_id"),
    ("identities", "org_id", "idx_identities_org_id"),
    ("sessions", "org_id", "idx_sessions_org_id"),
    (
        "refresh_tokens",
        "session_id",
        "idx_refresh_tokens_session_id",
    ),
    (
        "refresh_tokens",
        "client_id",
        "idx_refresh_tokens_client_id",
    ),
    ("refresh_tokens", "org_id", "idx_refresh_tokens_org_id"),
    ("api_keys", "user_id", "idx_api_keys_user_id"),
    (
        "scim_group_members",
        "org_id",
        "idx_scim_group_members_org_id",
    ),
];

/// Adds indexes on foreign-key columns that lacked one.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column, name) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(*name)
                        .table(Alias::new(*table))
                        .col(Alias::new(*column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, _, name) in INDEXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(*name)
                        .table(Alias::new(*table))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
