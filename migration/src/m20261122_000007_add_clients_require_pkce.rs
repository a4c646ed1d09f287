//! Adds the per-app PKCE requirement (on for every app unless an admin turns it off for a
//! confidential one).

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `clients.require_pkce`.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Clients::Table)
                    .add_column(boolean(Clients::RequirePkce).default(true))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Clients::Table)
                    .drop_column(Clients::RequirePkce)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    RequirePkce,
}
