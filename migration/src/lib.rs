//! Tessera's schema history: sea-orm migrations, frozen once released, never importing `entities`.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_organizations;
mod m20261122_000002_create_federation;
mod m20261122_000003_create_local_credentials;
mod m20261122_000004_create_sessions_and_clients;
mod m20261122_000005_create_directory;
mod m20261122_000006_create_keys_and_audit;
mod m20261122_000007_add_clients_require_pkce;
mod m20261122_000008_index_foreign_keys;
mod m20261122_000009_unique_next_signing_key;
mod m20261122_000010_add_refresh_token_auth_context;
mod m20261122_000011_create_session_clients;
mod m20261122_000012_add_clients_first_party;
mod m20261122_000013_create_consents;
mod m20261122_000014_add_consent_resources_and_orgs;
mod m20261122_000015_add_organizations_require_sso;
mod m20261122_000016_create_scim_users;
mod m20261203_000001_create_admin_console;
mod m20261203_000002_index_scim_text_patterns;

/// All of Tessera's migrations, in the order they apply.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_organizations::Migration),
            Box::new(m20261122_000002_create_federation::Migration),
            Box::new(m20261122_000003_create_local_credentials::Migration),
            Box::new(m20261122_000004_create_sessions_and_clients::Migration),
            Box::new(m20261122_000005_create_directory::Migration),
            Box::new(m20261122_000006_create_keys_and_audit::Migration),
            Box::new(m20261122_000007_add_clients_require_pkce::Migration),
            Box::new(m20261122_000008_index_foreign_keys::Migration),
            Box::new(m20261122_000009_unique_next_signing_key::Migration),
            Box::new(m20261122_000010_add_refresh_token_auth_context::Migration),
            Box::new(m20261122_000011_create_session_clients::Migration),
            Box::new(m20261122_000012_add_clients_first_party::Migration),
            Box::new(m20261122_000013_create_consents::Migration),
            Box::new(m20261122_000014_add_consent_resources_and_orgs::Migration),
            Box::new(m20261122_000015_add_organizations_require_sso::Migration),
            Box::new(m20261122_000016_create_scim_users::Migration),
            Box::new(m20261203_000001_create_admin_console::Migration),
            Box::new(m20261203_000002_index_scim_text_patterns::Migration),
        ]
    }
}

/// An arbitrary constant naming Tessera's migration lock among PostgreSQL advisory locks.
const MIGRATION_LOCK: i64 = 0x0074_6573_7365_7261; // "tessera"

/// Applies pending migrations and returns their names. On PostgreSQL they run in one
/// transaction holding an advisory lock, so replicas starting together migrate exactly once and
/// a failed migration leaves nothing half-applied. SQLite allows one writer at a time anyway.
pub async fn apply(
    db: &sea_orm_migration::sea_orm::DatabaseConnection,
) -> Result<Vec<String>, DbErr> {
    use sea_orm_migration::sea_orm::{DbBackend, TransactionTrait};
    if db.get_database_backend() == DbBackend::Postgres {
        let txn = db.begin().await?;
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
            .await?;
        let applied = pending(&txn).await?;
        Migrator::up(&txn, None).await?;
        txn.commit().await?;
        Ok(applied)
    } else {
        let applied = pending(db).await?;
        Migrator::up(db, None).await?;
        Ok(applied)
    }
}

/// Names of the migrations not yet applied.
pub async fn pending<C: ConnectionTrait>(db: &C) -> Result<Vec<String>, DbErr> {
    Ok(Migrator::get_pending_migrations(db)
        .await?
        .iter()
        .map(|m| m.name().to_owned())
        .collect())
}
