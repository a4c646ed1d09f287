//! Creates the SCIM directory: per-org bearer tokens, groups and group members.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `scim_tokens`, `scim_groups` and `scim_group_members`.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ScimTokens::Table)
                    .col(uuid(ScimTokens::Id).primary_key())
                    .col(uuid(ScimTokens::OrgId))
                    .col(string(ScimTokens::Name))
                    .col(string_len(ScimTokens::Prefix, 32))
                    .col(blob(ScimTokens::TokenHash))
                    .col(timestamp_with_time_zone_null(ScimTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ScimTokens::LastUsedAt))
                    .col(timestamp_with_time_zone(ScimTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(ScimTokens::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_scim_tokens_org_id")
                            .from(ScimTokens::Table, ScimTokens::OrgId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_scim_tokens_token_hash")
                    .table(ScimTokens::Table)
                    .col(ScimTokens::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_scim_tokens_org_id")
                    .table(ScimTokens::Table)
                    .col(ScimTokens::OrgId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ScimGroups::Table)
                    .col(uuid(ScimGroups::Id).primary_key())
                    .col(uuid(ScimGroups::OrgId))
                    .col(string(ScimGroups::DisplayName))
                    .col(string_null(ScimGroups::ExternalId))
                    .col(big_integer(ScimGroups::Version).default(1))
                    .col(timestamp_with_time_zone(ScimGroups::CreatedAt))
                    .col(timestamp_with_time_zone(ScimGroups::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_scim_groups_org_id")
                            .from(ScimGroups::Table, ScimGroups::OrgId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_scim_groups_org_display_name")
                    .table(ScimGroups::Table)
                    .col(ScimGroups::OrgId)
                    .col(ScimGroups::DisplayName)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_scim_groups_org_external_id")
                    .table(ScimGroups::Table)
                    .col(ScimGroups::OrgId)
                    .col(ScimGroups::ExternalId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ScimGroupMembers::Table)
                    .col(uuid(ScimGroupMembers::GroupId))
                    .col(uuid(ScimGroupMembers::UserId))
                    .col(uuid(ScimGroupMembers::OrgId))
                    .col(timestamp_with_time_zone(ScimGroupMembers::CreatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_scim_group_members")
                            .col(ScimGroupMembers::GroupId)
                            .col(ScimGroupMembers::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_scim_group_members_group_id")
                            .from(ScimGroupMembers::Table, ScimGroupMembers::GroupId)
                            .to(ScimGroups::Table, ScimGroups::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_scim_group_members_user_id")
                            .from(ScimGroupMembers::Table, ScimGroupMembers::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_scim_group_members_org_id")
                            .from(ScimGroupMembers::Table, ScimGroupMembers::OrgId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_scim_group_members_user_id")
                    .table(ScimGroupMembers::Table)
                    .col(ScimGroupMembers::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ScimGroupMembers::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ScimGroups::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ScimTokens::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ScimTokens {
    Table,
    Id,
    OrgId,
    Name,
    Prefix,
    TokenHash,
    ExpiresAt,
    LastUsedAt,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum ScimGroups {
    Table,
    Id,
    OrgId,
    DisplayName,
    ExternalId,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ScimGroupMembers {
    Table,
    GroupId,
    UserId,
    OrgId,
    CreatedAt,
}
