//! Stores SCIM users, the indexed values their filters run on, case-folded group names and
//! per-org resource counts.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `scim_users`, `scim_values` and `scim_counts`; adds `scim_groups.display_name_norm`.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ScimUsers::Table)
                    .col(uuid(ScimUsers::Id).primary_key())
                    .col(uuid(ScimUsers::OrgId))
                    .col(uuid(ScimUsers::UserId))
                    .col(string(ScimUsers::UserName))
                    .col(string(ScimUsers::UserNameNorm))
                    .col(string_null(ScimUsers::ExternalId))
                    .col(boolean(ScimUsers::Active))
                    .col(json_binary(ScimUsers::Doc))
                    .col(big_integer(ScimUsers::Version))
                    .col(timestamp_with_time_zone(ScimUsers::CreatedAt))
                    .col(timestamp_with_time_zone(ScimUsers::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_scim_users_org_id")
                            .from(ScimUsers::Table, ScimUsers::OrgId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_scim_users_user_id")
                            .from(ScimUsers::Table, ScimUsers::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "uq_scim_users_org_user_name",
                vec![ScimUsers::OrgId, ScimUsers::UserNameNorm],
                true,
            ),
            (
                "uq_scim_users_org_user",
                vec![ScimUsers::OrgId, ScimUsers::UserId],
                true,
            ),
            (
                "idx_scim_users_org_id",
                vec![ScimUsers::OrgId, ScimUsers::Id],
                false,
            ),
            (
                "idx_scim_users_org_external_id",
                vec![ScimUsers::OrgId, ScimUsers::ExternalId],
                false,
            ),
            ("idx_scim_users_user_id", vec![ScimUsers::UserId], false),
        ] {
            let mut index = Index::create();
            index.name(name).table(ScimUsers::Table);
            for col in cols {
                index.col(col);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(ScimValues::Table)
                    .col(uuid(ScimValues::ResourceId))
                    .col(string_len(ScimValues::Path, 200))
                    .col(integer(ScimValues::Item))
                    .col(uuid(ScimValues::OrgId))
                    .col(string(ScimValues::Norm))
                    .col(double_null(ScimValues::Num))
                    .primary_key(
                        Index::create()
                            .name("pk_scim_values")
                            .col(ScimValues::ResourceId)
                            .col(ScimValues::Path)
                            .col(ScimValues::Item),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_scim_values_resource_id")
                            .from(ScimValues::Table, ScimValues::ResourceId)
                            .to(ScimUsers::Table, ScimUsers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_scim_values_org_id")
                            .from(ScimValues::Table, ScimValues::OrgId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_scim_values_lookup")
                    .table(ScimValues::Table)
                    .col(ScimValues::OrgId)
                    .col(ScimValues::Path)
                    .col(ScimValues::Norm)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ScimCounts::Table)
                    .col(uuid(ScimCounts::OrgId).primary_key())
                    .col(big_integer(ScimCounts::Users).default(0))
                    .col(big_integer(ScimCounts::Groups).default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_scim_counts_org_id")
                            .from(ScimCounts::Table, ScimCounts::OrgId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(ScimGroups::Table)
                    .add_column(string(ScimGroups::DisplayNameNorm).default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_scim_groups_org_display_name_norm")
                    .table(ScimGroups::Table)
                    .col(ScimGroups::OrgId)
                    .col(ScimGroups::DisplayNameNorm)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_scim_groups_org_display_name_norm")
                    .table(ScimGroups::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ScimGroups::Table)
                    .drop_column(ScimGroups::DisplayNameNorm)
                    .to_owned(),
            )
            .await?;
        for table in [
            ScimCounts::Table.into_iden(),
            ScimValues::Table.into_iden(),
            ScimUsers::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum ScimUsers {
    Table,
    Id,
    OrgId,
    UserId,
    UserName,
    UserNameNorm,
    ExternalId,
    Active,
    Doc,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ScimValues {
    Table,
    ResourceId,
    Path,
    Item,
    OrgId,
    Norm,
    Num,
}

#[derive(DeriveIden)]
enum ScimCounts {
    Table,
    OrgId,
    Users,
    Groups,
}

#[derive(DeriveIden)]
enum ScimGroups {
    Table,
    OrgId,
    DisplayNameNorm,
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
