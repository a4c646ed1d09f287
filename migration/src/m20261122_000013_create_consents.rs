//! What users allowed third-party apps to do: one row per user and app, with the scopes granted.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `consents`.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Consents::Table)
                    .col(uuid(Consents::UserId))
                    .col(uuid(Consents::ClientId))
                    .col(json_binary(Consents::Scopes))
                    .col(timestamp_with_time_zone(Consents::CreatedAt))
                    .col(timestamp_with_time_zone(Consents::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_consents")
                            .col(Consents::UserId)
                            .col(Consents::ClientId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_consents_user_id")
                            .from(Consents::Table, Consents::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_consents_client_id")
                            .from(Consents::Table, Consents::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_consents_client_id")
                    .table(Consents::Table)
                    .col(Consents::ClientId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Consents::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Consents {
    Table,
    UserId,
    ClientId,
    Scopes,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
}
