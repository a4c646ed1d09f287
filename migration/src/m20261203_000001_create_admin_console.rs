//! What the admin console needs: instance administrators (people, not API keys), each
//! organization's sign-in branding, and a label on setup links.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `instance_admins` and `org_brandings`; adds `setup_links.label`.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InstanceAdmins::Table)
                    .col(uuid(InstanceAdmins::UserId).primary_key())
                    .col(timestamp_with_time_zone(InstanceAdmins::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_instance_admins_user_id")
                            .from(InstanceAdmins::Table, InstanceAdmins::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrgBrandings::Table)
                    .col(uuid(OrgBrandings::OrgId).primary_key())
                    .col(string_len_null(OrgBrandings::DisplayName, 128))
                    .col(string_len_null(OrgBrandings::Color, 7))
                    .col(blob_null(OrgBrandings::Logo))
                    .col(string_len_null(OrgBrandings::LogoType, 32))
                    .col(timestamp_with_time_zone(OrgBrandings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_org_brandings_org_id")
                            .from(OrgBrandings::Table, OrgBrandings::OrgId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SetupLinks::Table)
                    .add_column(string_len_null(SetupLinks::Label, 128))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SetupLinks::Table)
                    .drop_column(SetupLinks::Label)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(OrgBrandings::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(InstanceAdmins::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum InstanceAdmins {
    Table,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OrgBrandings {
    Table,
    OrgId,
    DisplayName,
    Color,
    Logo,
    LogoType,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SetupLinks {
    Table,
    Label,
}
