//! Indexes the SCIM text comparisons a B-tree in the database's collation cannot serve on
//! PostgreSQL: `sw` (a `LIKE 'x%'` prefix needs `text_pattern_ops` unless the collation is C)
//! and `co` / `ew` (`LIKE '%x%'`, served by `pg_trgm` trigram indexes). SQLite needs nothing:
//! with `case_sensitive_like` its B-trees serve prefixes, and it has no trigram indexes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// Adds pattern and trigram indexes on the compared text of SCIM users, values and groups.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

/// `(name, table, columns)` of the B-tree indexes for prefixes (and equality).
const PATTERN: [(&str, &str, &str); 3] = [
    // With the user's id, a filter on a value that many users share reads the index alone.
    (
        "idx_scim_values_pattern",
        "scim_values",
        "org_id, path, norm text_pattern_ops) INCLUDE (resource_id",
    ),
    (
        "idx_scim_users_user_name_pattern",
        "scim_users",
        "org_id, user_name_norm text_pattern_ops",
    ),
    (
        "idx_scim_groups_display_name_pattern",
        "scim_groups",
        "org_id, display_name_norm text_pattern_ops",
    ),
];

/// `(name, table, column)` of the trigram indexes for substrings and suffixes.
const TRIGRAM: [(&str, &str, &str); 3] = [
    ("idx_scim_values_trigram", "scim_values", "norm"),
    (
        "idx_scim_users_user_name_trigram",
        "scim_users",
        "user_name_norm",
    ),
    (
        "idx_scim_groups_display_name_trigram",
        "scim_groups",
        "display_name_norm",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for (name, table, columns) in PATTERN {
            db.execute_unprepared(&format!("CREATE INDEX {name} ON {table} ({columns})"))
                .await?;
        }
        // pg_trgm ships with PostgreSQL (contrib) and is a trusted extension, so the database
        // owner may create it. Where it is missing or refused, `co` and `ew` stay correct and
        // scan the attribute's values instead.
        db.execute_unprepared(
            "DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm; \
             EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'pg_trgm unavailable: %', SQLERRM; END $$",
        )
        .await?;
        for (name, table, column) in TRIGRAM {
            db.execute_unprepared(&format!(
                "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') \
                 THEN CREATE INDEX {name} ON {table} USING gin ({column} gin_trgm_ops); \
                 END IF; END $$"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for name in PATTERN
            .iter()
            .map(|(name, ..)| name)
            .chain(TRIGRAM.iter().map(|(name, ..)| name))
        {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
        }
        Ok(())
    }
}
