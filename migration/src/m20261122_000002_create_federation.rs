//! Creates federation: upstream IdP connections, linked identities and role mappings.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `connections`, `identities` and `role_mappings`.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Connections::Table)
                    .col(uuid(Connections::Id).primary_key())
                    .col(uuid_null(Connections::OrgId))
                    .col(string_len(Connections::Kind, 16))
                    .col(string(Connections::Name))
                    .col(string_len_null(Connections::Preset, 32))
                    .col(string_len(Connections::Status, 16))
                    .col(json_binary(Connections::Config))
                    .col(blob_null(Connections::SecretsEncrypted))
                    .col(timestamp_with_time_zone(Connections::CreatedAt))
                    .col(timestamp_with_time_zone(Connections::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_connections_org_id")
                            .from(Connections::Table, Connections::OrgId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_connections_org_status")
                    .table(Connections::Table)
                    .col(Connections::OrgId)
                    .col(Connections::Status)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Identities::Table)
                    .col(uuid(Identities::Id).primary_key())
                    .col(uuid(Identities::UserId))
                    .col(uuid_null(Identities::OrgId))
                    .col(uuid(Identities::ConnectionId))
                    .col(string(Identities::Subject))
                    .col(json_binary(Identities::RawClaims))
                    .col(timestamp_with_time_zone(Identities::CreatedAt))
                    .col(timestamp_with_time_zone_null(Identities::LastLoginAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_identities_user_id")
                            .from(Identities::Table, Identities::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_identities_org_id")
                            .from(Identities::Table, Identities::OrgId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_identities_connection_id")
                            .from(Identities::Table, Identities::ConnectionId)
                            .to(Connections::Table, Connections::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_identities_connection_subject")
                    .table(Identities::Table)
                    .col(Identities::ConnectionId)
                    .col(Identities::Subject)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_identities_user_id")
                    .table(Identities::Table)
                    .col(Identities::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RoleMappings::Table)
                    .col(uuid(RoleMappings::OrgId).primary_key())
                    .col(json_binary(RoleMappings::Rules))
                    .col(string_null(RoleMappings::DefaultRole))
                    .col(boolean(RoleMappings::DenyUnmatched).default(false))
                    .col(timestamp_with_time_zone(RoleMappings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_role_mappings_org_id")
                            .from(RoleMappings::Table, RoleMappings::OrgId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RoleMappings::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Identities::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Connections::Table).to_owned())
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
enum Connections {
    Table,
    Id,
    OrgId,
    Kind,
    Name,
    Preset,
    Status,
    Config,
    SecretsEncrypted,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Identities {
    Table,
    Id,
    UserId,
    OrgId,
    ConnectionId,
    Subject,
    RawClaims,
    CreatedAt,
    LastLoginAt,
}

#[derive(DeriveIden)]
enum RoleMappings {
    Table,
    OrgId,
    Rules,
    DefaultRole,
    DenyUnmatched,
    UpdatedAt,
}
