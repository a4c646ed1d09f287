//! Creates token-signing keys, the audit log and org setup links.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `signing_keys`, `audit_events` and `setup_links`.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(uuid(SigningKeys::Id).primary_key())
                    .col(string(SigningKeys::Kid))
                    .col(string_len(SigningKeys::Alg, 16))
                    .col(string_len(SigningKeys::State, 16))
                    .col(blob(SigningKeys::PrivateKeyEncrypted))
                    .col(json_binary(SigningKeys::PublicJwk))
                    .col(timestamp_with_time_zone(SigningKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(SigningKeys::ActivatedAt))
                    .col(timestamp_with_time_zone_null(SigningKeys::RetiredAt))
                    .col(timestamp_with_time_zone_null(SigningKeys::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_signing_keys_kid")
                    .table(SigningKeys::Table)
                    .col(SigningKeys::Kid)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_signing_keys_alg_state")
                    .table(SigningKeys::Table)
                    .col(SigningKeys::Alg)
                    .col(SigningKeys::State)
                    .to_owned(),
            )
            .await?;
        // One current key per algorithm, even when replicas start together.
        manager
            .create_index(
                Index::create()
                    .name("uq_signing_keys_current_alg")
                    .table(SigningKeys::Table)
                    .col(SigningKeys::Alg)
                    .unique()
                    .and_where(Expr::col(SigningKeys::State).eq("current"))
                    .to_owned(),
            )
            .await?;

        // No foreign keys: history outlives what it describes.
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(uuid(AuditEvents::Id).primary_key())
                    .col(uuid_null(AuditEvents::OrgId))
                    .col(string_len(AuditEvents::ActorKind, 32))
                    .col(string_null(AuditEvents::ActorId))
                    .col(string(AuditEvents::Action))
                    .col(string_len_null(AuditEvents::TargetKind, 32))
                    .col(string_null(AuditEvents::TargetId))
                    .col(json_binary(AuditEvents::Data))
                    .col(string_null(AuditEvents::Ip))
                    .col(string_null(AuditEvents::RequestId))
                    .col(timestamp_with_time_zone(AuditEvents::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_events_org_id_id")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::OrgId)
                    .col(AuditEvents::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_events_action")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::Action)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_events_created_at")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SetupLinks::Table)
                    .col(uuid(SetupLinks::Id).primary_key())
                    .col(uuid(SetupLinks::OrgId))
                    .col(blob(SetupLinks::TokenHash))
                    .col(uuid_null(SetupLinks::CreatedBy))
                    .col(timestamp_with_time_zone(SetupLinks::ExpiresAt))
                    .col(timestamp_with_time_zone_null(SetupLinks::UsedAt))
                    .col(timestamp_with_time_zone_null(SetupLinks::RevokedAt))
                    .col(timestamp_with_time_zone(SetupLinks::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_setup_links_org_id")
                            .from(SetupLinks::Table, SetupLinks::OrgId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_setup_links_token_hash")
                    .table(SetupLinks::Table)
                    .col(SetupLinks::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_setup_links_org_id")
                    .table(SetupLinks::Table)
                    .col(SetupLinks::OrgId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SetupLinks::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SigningKeys::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Id,
    Kid,
    Alg,
    State,
    PrivateKeyEncrypted,
    PublicJwk,
    CreatedAt,
    ActivatedAt,
    RetiredAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    OrgId,
    ActorKind,
    ActorId,
    Action,
    TargetKind,
    TargetId,
    Data,
    Ip,
    RequestId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SetupLinks {
    Table,
    Id,
    OrgId,
    TokenHash,
    CreatedBy,
    ExpiresAt,
    UsedAt,
    RevokedAt,
    CreatedAt,
}
