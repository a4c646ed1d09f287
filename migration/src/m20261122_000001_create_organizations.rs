//! Creates the tenancy core: organizations, their domains, users and memberships.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `organizations`, `domains`, `users` and `memberships`.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organizations::Table)
                    .col(uuid(Organizations::Id).primary_key())
                    .col(string(Organizations::Slug))
                    .col(string(Organizations::Name))
                    .col(timestamp_with_time_zone(Organizations::CreatedAt))
                    .col(timestamp_with_time_zone(Organizations::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_organizations_slug")
                    .table(Organizations::Table)
                    .col(Organizations::Slug)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Domains::Table)
                    .col(uuid(Domains::Id).primary_key())
                    .col(uuid(Domains::OrgId))
                    .col(string(Domains::Domain))
                    .col(boolean(Domains::Verified).default(false))
                    .col(string(Domains::VerificationToken))
                    .col(string_len_null(Domains::VerificationMethod, 16))
                    .col(timestamp_with_time_zone_null(Domains::VerifiedAt))
                    .col(timestamp_with_time_zone(Domains::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_domains_org_id")
                            .from(Domains::Table, Domains::OrgId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_domains_org_domain")
                    .table(Domains::Table)
                    .col(Domains::OrgId)
                    .col(Domains::Domain)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Several orgs may claim a domain; only one may have it verified.
        manager
            .create_index(
                Index::create()
                    .name("uq_domains_domain_verified")
                    .table(Domains::Table)
                    .col(Domains::Domain)
                    .unique()
                    .and_where(Expr::col(Domains::Verified).eq(true))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(uuid(Users::Id).primary_key())
                    .col(string_null(Users::Email))
                    .col(boolean(Users::EmailVerified).default(false))
                    .col(string_null(Users::Name))
                    .col(string_null(Users::GivenName))
                    .col(string_null(Users::FamilyName))
                    .col(string_len(Users::Status, 16))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Users::LastLoginAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_users_email")
                    .table(Users::Table)
                    .col(Users::Email)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .col(uuid(Memberships::Id).primary_key())
                    .col(uuid(Memberships::OrgId))
                    .col(uuid(Memberships::UserId))
                    .col(json_binary(Memberships::Roles))
                    .col(string_len(Memberships::Status, 16))
                    .col(string_len(Memberships::Source, 16))
                    .col(timestamp_with_time_zone(Memberships::CreatedAt))
                    .col(timestamp_with_time_zone(Memberships::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_memberships_org_id")
                            .from(Memberships::Table, Memberships::OrgId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_memberships_user_id")
                            .from(Memberships::Table, Memberships::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_memberships_org_user")
                    .table(Memberships::Table)
                    .col(Memberships::OrgId)
                    .col(Memberships::UserId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Memberships::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Domains::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Organizations::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Slug,
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Domains {
    Table,
    Id,
    OrgId,
    Domain,
    Verified,
    VerificationToken,
    VerificationMethod,
    VerifiedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    EmailVerified,
    Name,
    GivenName,
    FamilyName,
    Status,
    CreatedAt,
    UpdatedAt,
    LastLoginAt,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
    OrgId,
    UserId,
    Roles,
    Status,
    Source,
    CreatedAt,
    UpdatedAt,
}
