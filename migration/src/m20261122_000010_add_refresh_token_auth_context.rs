//! Keeps a grant's authentication context with its refresh tokens, so tokens issued on refresh
//! carry the same `auth_time`, `amr`, `acr` and audiences as the first ones.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `auth_time`, `amr`, `acr` and `resources` to `refresh_tokens`.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for column in [
            timestamp_with_time_zone_null(RefreshTokens::AuthTime),
            json_binary_null(RefreshTokens::Amr),
            string_null(RefreshTokens::Acr),
            json_binary_null(RefreshTokens::Resources),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(RefreshTokens::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            RefreshTokens::AuthTime,
            RefreshTokens::Amr,
            RefreshTokens::Acr,
            RefreshTokens::Resources,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RefreshTokens::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    AuthTime,
    Amr,
    Acr,
    Resources,
}
