//! Consent covers more than scopes: the resources (access-token audiences) and organizations a
//! user allowed a third-party app, so a consented app cannot silently ask for another API or
//! another of the user's organizations.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `consents.resources` and `consents.org_ids`.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            json_binary_null(Consents::Resources),
            json_binary_null(Consents::OrgIds),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Consents::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Consents::Resources, Consents::OrgIds] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Consents::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Consents {
    Table,
    Resources,
    OrgIds,
}
