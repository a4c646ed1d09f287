//! Which apps each browser session signed in to, so logout can notify them (OIDC Back-Channel
//! Logout) and an admin can see where a session is used.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `session_clients`.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SessionClients::Table)
                    .col(uuid(SessionClients::SessionId))
                    .col(uuid(SessionClients::ClientId))
                    .col(timestamp_with_time_zone(SessionClients::CreatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_session_clients")
                            .col(SessionClients::SessionId)
                            .col(SessionClients::ClientId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_session_clients_session_id")
                            .from(SessionClients::Table, SessionClients::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_session_clients_client_id")
                            .from(SessionClients::Table, SessionClients::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_session_clients_client_id")
                    .table(SessionClients::Table)
                    .col(SessionClients::ClientId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SessionClients::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SessionClients {
    Table,
    SessionId,
    ClientId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
}
