//! Creates browser sessions, apps (OIDC clients), refresh tokens and API keys.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `sessions`, `clients`, `refresh_tokens` and `api_keys`.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(uuid(Sessions::Id).primary_key())
                    .col(uuid(Sessions::UserId))
                    .col(uuid_null(Sessions::OrgId))
                    .col(blob(Sessions::TokenHash))
                    .col(json_binary(Sessions::Amr))
                    .col(string_null(Sessions::Acr))
                    .col(timestamp_with_time_zone(Sessions::AuthTime))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                    .col(timestamp_with_time_zone(Sessions::IdleExpiresAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(text_null(Sessions::UserAgent))
                    .col(string_null(Sessions::Ip))
                    .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_user_id")
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_org_id")
                            .from(Sessions::Table, Sessions::OrgId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_sessions_token_hash")
                    .table(Sessions::Table)
                    .col(Sessions::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user_id")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Clients::Table)
                    .col(uuid(Clients::Id).primary_key())
                    .col(uuid_null(Clients::OrgId))
                    .col(string(Clients::Name))
                    .col(string_len(Clients::ClientType, 16))
                    .col(blob_null(Clients::SecretHash))
                    .col(json_binary(Clients::RedirectUris))
                    .col(json_binary(Clients::PostLogoutRedirectUris))
                    .col(json_binary(Clients::GrantTypes))
                    .col(json_binary(Clients::Scopes))
                    .col(string_len(Clients::TokenEndpointAuthMethod, 32))
                    .col(string_len_null(Clients::IdTokenSignedResponseAlg, 16))
                    .col(json_binary(Clients::CustomClaims))
                    .col(text_null(Clients::BackchannelLogoutUri))
                    .col(timestamp_with_time_zone(Clients::CreatedAt))
                    .col(timestamp_with_time_zone(Clients::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_clients_org_id")
                            .from(Clients::Table, Clients::OrgId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_clients_org_id")
                    .table(Clients::Table)
                    .col(Clients::OrgId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(uuid(RefreshTokens::Id).primary_key())
                    .col(blob(RefreshTokens::TokenHash))
                    .col(uuid(RefreshTokens::FamilyId))
                    .col(uuid(RefreshTokens::ClientId))
                    .col(uuid_null(RefreshTokens::UserId))
                    .col(uuid_null(RefreshTokens::OrgId))
                    .col(uuid_null(RefreshTokens::SessionId))
                    .col(text(RefreshTokens::Scope))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone(RefreshTokens::AbsoluteExpiresAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RotatedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_refresh_tokens_client_id")
                            .from(RefreshTokens::Table, RefreshTokens::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_refresh_tokens_user_id")
                            .from(RefreshTokens::Table, RefreshTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_refresh_tokens_org_id")
                            .from(RefreshTokens::Table, RefreshTokens::OrgId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_refresh_tokens_session_id")
                            .from(RefreshTokens::Table, RefreshTokens::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_refresh_tokens_token_hash")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_family_id")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::FamilyId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_user_id")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(uuid(ApiKeys::Id).primary_key())
                    .col(string(ApiKeys::Name))
                    .col(string_len(ApiKeys::Prefix, 32))
                    .col(blob(ApiKeys::KeyHash))
                    .col(string_len(ApiKeys::OwnerKind, 16))
                    .col(uuid_null(ApiKeys::OrgId))
                    .col(uuid_null(ApiKeys::UserId))
                    .col(json_binary(ApiKeys::Scopes))
                    .col(timestamp_with_time_zone_null(ApiKeys::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_keys_org_id")
                            .from(ApiKeys::Table, ApiKeys::OrgId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_keys_user_id")
                            .from(ApiKeys::Table, ApiKeys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_api_keys_key_hash")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::KeyHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_keys_org_id")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::OrgId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApiKeys::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(RefreshTokens::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Clients::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await
    }
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

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    OrgId,
    TokenHash,
    Amr,
    Acr,
    AuthTime,
    CreatedAt,
    LastSeenAt,
    IdleExpiresAt,
    ExpiresAt,
    UserAgent,
    Ip,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
    OrgId,
    Name,
    ClientType,
    SecretHash,
    RedirectUris,
    PostLogoutRedirectUris,
    GrantTypes,
    Scopes,
    TokenEndpointAuthMethod,
    IdTokenSignedResponseAlg,
    CustomClaims,
    BackchannelLogoutUri,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    TokenHash,
    FamilyId,
    ClientId,
    UserId,
    OrgId,
    SessionId,
    Scope,
    CreatedAt,
    ExpiresAt,
    AbsoluteExpiresAt,
    RotatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    Name,
    Prefix,
    KeyHash,
    OwnerKind,
    OrgId,
    UserId,
    Scopes,
    ExpiresAt,
    LastUsedAt,
    CreatedAt,
    RevokedAt,
}
