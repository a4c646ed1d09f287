//! Creates local sign-in credentials: passkeys, passwords, TOTP secrets and recovery codes.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `passkeys`, `password_credentials`, `totp_secrets` and `recovery_codes`.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Passkeys::Table)
                    .col(uuid(Passkeys::Id).primary_key())
                    .col(uuid(Passkeys::UserId))
                    .col(blob(Passkeys::CredentialId))
                    .col(string(Passkeys::Name))
                    .col(json_binary(Passkeys::Passkey))
                    .col(uuid_null(Passkeys::Aaguid))
                    .col(boolean(Passkeys::BackupEligible).default(false))
                    .col(boolean(Passkeys::BackupState).default(false))
                    .col(big_integer(Passkeys::SignCount).default(0))
                    .col(timestamp_with_time_zone(Passkeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(Passkeys::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_passkeys_user_id")
                            .from(Passkeys::Table, Passkeys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_passkeys_credential_id")
                    .table(Passkeys::Table)
                    .col(Passkeys::CredentialId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_passkeys_user_id")
                    .table(Passkeys::Table)
                    .col(Passkeys::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PasswordCredentials::Table)
                    .col(uuid(PasswordCredentials::UserId).primary_key())
                    .col(text(PasswordCredentials::Hash))
                    .col(timestamp_with_time_zone(PasswordCredentials::CreatedAt))
                    .col(timestamp_with_time_zone(PasswordCredentials::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_password_credentials_user_id")
                            .from(PasswordCredentials::Table, PasswordCredentials::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TotpSecrets::Table)
                    .col(uuid(TotpSecrets::UserId).primary_key())
                    .col(blob(TotpSecrets::SecretEncrypted))
                    .col(timestamp_with_time_zone_null(TotpSecrets::ConfirmedAt))
                    .col(big_integer_null(TotpSecrets::LastUsedStep))
                    .col(timestamp_with_time_zone(TotpSecrets::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_totp_secrets_user_id")
                            .from(TotpSecrets::Table, TotpSecrets::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RecoveryCodes::Table)
                    .col(uuid(RecoveryCodes::Id).primary_key())
                    .col(uuid(RecoveryCodes::UserId))
                    .col(blob(RecoveryCodes::CodeHash))
                    .col(timestamp_with_time_zone_null(RecoveryCodes::UsedAt))
                    .col(timestamp_with_time_zone(RecoveryCodes::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_recovery_codes_user_id")
                            .from(RecoveryCodes::Table, RecoveryCodes::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_recovery_codes_code_hash")
                    .table(RecoveryCodes::Table)
                    .col(RecoveryCodes::CodeHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_recovery_codes_user_id")
                    .table(RecoveryCodes::Table)
                    .col(RecoveryCodes::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RecoveryCodes::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(TotpSecrets::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PasswordCredentials::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Passkeys::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Passkeys {
    Table,
    Id,
    UserId,
    CredentialId,
    Name,
    Passkey,
    Aaguid,
    BackupEligible,
    BackupState,
    SignCount,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum PasswordCredentials {
    Table,
    UserId,
    Hash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TotpSecrets {
    Table,
    UserId,
    SecretEncrypted,
    ConfirmedAt,
    LastUsedStep,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    UsedAt,
    CreatedAt,
}
