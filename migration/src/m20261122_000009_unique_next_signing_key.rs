//! At most one published-but-not-yet-signing ("next") key per algorithm, so replicas starting
//! or rotating together cannot pile up spare keys.

use sea_orm_migration::prelude::*;

/// Adds the partial unique index `uq_signing_keys_next_alg`.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("uq_signing_keys_next_alg")
                    .table(SigningKeys::Table)
                    .col(SigningKeys::Alg)
                    .unique()
                    .and_where(Expr::col(SigningKeys::State).eq("next"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("uq_signing_keys_next_alg")
                    .table(SigningKeys::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Alg,
    State,
}
