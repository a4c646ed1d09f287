//! The migrations and the entities agree: every table round-trips a row column by column,
//! verified domains are unique across orgs, deleting an org cascades, and the whole history
//! migrates down and up again. Runs on SQLite always, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set (in a fresh database that is dropped afterwards).

use std::fmt::Debug;

use entities::prelude::*;
use entities::*;
use migration::{Migrator, MigratorTrait, SchemaManager};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, Database,
    DatabaseConnection, DbBackend, DbErr, EntityTrait, IntoActiveModel, Iterable, PaginatorTrait,
    QueryFilter, QuerySelect, SqlErr, Statement,
};
use serde_json::json;

#[path = "schema/rows.rs"]
mod rows;

use rows::{
    Ids, at, client_row, insert_directory, insert_federation, insert_keys_and_audit,
    insert_local_credentials, insert_sessions_and_clients, insert_tenancy, refresh_token_row,
    session_row,
};

#[tokio::test]
async fn schema_works_on_sqlite() -> Result<(), DbErr> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("tessera.db").display()
    );
    let db = Database::connect(&url).await?;
    let foreign_keys = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA foreign_keys",
        ))
        .await?
        .map(|row| row.try_get_by_index::<i32>(0))
        .transpose()?;
    assert_eq!(
        foreign_keys,
        Some(1),
        "cascades need SQLite foreign keys on"
    );
    exercise_schema(&db).await?;
    db.close().await
}

#[tokio::test]
async fn schema_works_on_postgres() -> Result<(), DbErr> {
    let Ok(server) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("TEST_DATABASE_URL is not set; skipping the PostgreSQL run");
        return Ok(());
    };
    let admin = Database::connect(&server).await?;
    let name = format!("tessera_mig_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#))
        .await?;
    let db = Database::connect(with_database(&server, &name)).await?;
    // In a task, so that a failed assertion still reaches the DROP below.
    let outcome = tokio::spawn(async move {
        let result = exercise_schema(&db).await;
        db.close().await?;
        result
    })
    .await;
    admin
        .execute_unprepared(&format!(r#"DROP DATABASE "{name}" WITH (FORCE)"#))
        .await?;
    match outcome {
        Ok(result) => result,
        Err(failed) => std::panic::resume_unwind(failed.into_panic()),
    }
}

#[test]
fn enum_serde_names_match_stored_strings() {
    fn check<E: ActiveEnum<Value = String> + Iterable + serde::Serialize>() {
        for variant in E::iter() {
            assert_eq!(
                serde_json::to_value(&variant).unwrap(),
                json!(variant.to_value())
            );
        }
    }
    check::<UserStatus>();
    check::<MembershipStatus>();
    check::<MembershipSource>();
    check::<ConnectionKind>();
    check::<ConnectionStatus>();
    check::<VerificationMethod>();
    check::<ClientType>();
    check::<ApiKeyOwner>();
    check::<SigningAlg>();
    check::<KeyState>();
    assert_eq!(VerificationMethod::DnsTxt.to_value(), "dns_txt");
    assert_eq!(ApiKeyOwner::Instance.to_value(), "instance");
    assert_eq!(SigningAlg::EdDsa.to_value(), "EdDSA");
}

/// Every check, against one migrated-from-empty database.
async fn exercise_schema(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await?;
    assert!(Migrator::get_pending_migrations(db).await?.is_empty());

    let ids = Ids::new();
    insert_tenancy(db, &ids).await?;
    insert_federation(db, &ids).await?;
    insert_local_credentials(db, &ids).await?;
    insert_sessions_and_clients(db, &ids).await?;
    insert_directory(db, &ids).await?;
    insert_keys_and_audit(db, &ids).await?;
    enums_are_stored_as_short_strings(db).await?;

    slugs_are_unique(db).await?;
    verified_domains_are_unique_across_orgs(db).await?;
    deleting_a_session_keeps_its_refresh_tokens(db, &ids).await?;
    deleting_an_org_cascades(db, &ids).await?;

    Migrator::down(db, None).await?;
    assert!(Migrator::get_applied_migrations(db).await?.is_empty());
    assert!(!SchemaManager::new(db).has_table("organizations").await?);
    Migrator::up(db, None).await?;
    assert_eq!(
        Migrator::get_applied_migrations(db).await?.len(),
        Migrator::migrations().len()
    );
    Ok(())
}

/// Enumerations are the short strings ADR 0001 documents, readable in `psql`.
async fn enums_are_stored_as_short_strings(db: &DatabaseConnection) -> Result<(), DbErr> {
    let method: Option<String> = Domain::find()
        .select_only()
        .column(domain::Column::VerificationMethod)
        .into_tuple()
        .one(db)
        .await?;
    assert_eq!(method.as_deref(), Some("dns_txt"));
    let owner: Option<String> = ApiKey::find()
        .select_only()
        .column(api_key::Column::OwnerKind)
        .into_tuple()
        .one(db)
        .await?;
    assert_eq!(owner.as_deref(), Some("org"));
    let alg_state: Option<(String, String)> = SigningKey::find()
        .select_only()
        .column(signing_key::Column::Alg)
        .column(signing_key::Column::State)
        .into_tuple()
        .one(db)
        .await?;
    assert_eq!(alg_state, Some(("EdDSA".into(), "current".into())));
    Ok(())
}

async fn insert_org(db: &DatabaseConnection, slug: &str) -> Result<OrgId, DbErr> {
    let org = organization::ActiveModel {
        id: Set(OrgId::new()),
        slug: Set(slug.to_owned()),
        name: Set(slug.to_owned()),
        require_sso: Set(false),
        created_at: Set(at(0)),
        updated_at: Set(at(0)),
    };
    Ok(org.insert(db).await?.id)
}

async fn insert_domain(
    db: &DatabaseConnection,
    org: OrgId,
    name: &str,
    verified: bool,
) -> Result<domain::Model, DbErr> {
    let domain = domain::ActiveModel {
        id: Set(DomainId::new()),
        org_id: Set(org),
        domain: Set(name.to_owned()),
        verified: Set(verified),
        verification_token: Set(format!("tessera-verify={org}")),
        verification_method: Set(verified.then_some(VerificationMethod::Manual)),
        verified_at: Set(verified.then(|| at(1))),
        created_at: Set(at(0)),
    };
    domain.insert(db).await
}

fn is_unique_violation<T: Debug>(result: &Result<T, DbErr>) -> bool {
    matches!(
        result.as_ref().map_err(DbErr::sql_err),
        Err(Some(SqlErr::UniqueConstraintViolation(_)))
    )
}

async fn slugs_are_unique(db: &DatabaseConnection) -> Result<(), DbErr> {
    insert_org(db, "globex").await?;
    let again = insert_org(db, "globex").await;
    assert!(is_unique_violation(&again), "{again:?}");
    Ok(())
}

async fn verified_domains_are_unique_across_orgs(db: &DatabaseConnection) -> Result<(), DbErr> {
    let owner = insert_org(db, "acme").await?;
    let claimant = insert_org(db, "acme-imposter").await?;
    let latecomer = insert_org(db, "acme-latecomer").await?;
    insert_domain(db, owner, "acme.example", true).await?;

    // Another org may claim the domain while its claim is unverified…
    let claim = insert_domain(db, claimant, "acme.example", false).await?;
    // …but no second org may hold it verified, whether inserted so or verified later.
    let verified_again = insert_domain(db, latecomer, "acme.example", true).await;
    assert!(is_unique_violation(&verified_again), "{verified_again:?}");
    let mut verify_claim = claim.into_active_model();
    verify_claim.verified = Set(true);
    let verified_later = verify_claim.update(db).await;
    assert!(is_unique_violation(&verified_later), "{verified_later:?}");
    // One org cannot claim the same domain twice.
    let twice = insert_domain(db, claimant, "acme.example", false).await;
    assert!(is_unique_violation(&twice), "{twice:?}");
    Ok(())
}

/// `refresh_tokens.session_id` is `ON DELETE SET NULL`: the token outlives the session row.
async fn deleting_a_session_keeps_its_refresh_tokens(
    db: &DatabaseConnection,
    ids: &Ids,
) -> Result<(), DbErr> {
    let (session, client, token) = (SessionId::new(), ClientId::new(), RefreshTokenId::new());
    session_row(session, ids.user, None, 30)
        .into_active_model()
        .reset_all()
        .insert(db)
        .await?;
    client_row(client, None)
        .into_active_model()
        .reset_all()
        .insert(db)
        .await?;
    refresh_token_row(token, client, ids.user, None, session, 31)
        .into_active_model()
        .reset_all()
        .insert(db)
        .await?;

    Session::delete_by_id(session).exec(db).await?;
    let token = RefreshToken::find_by_id(token).one(db).await?;
    assert_eq!(token.map(|t| t.session_id), Some(None));
    Ok(())
}

/// Deleting an org removes everything carrying its `org_id`, and nothing else.
async fn deleting_an_org_cascades(db: &DatabaseConnection, ids: &Ids) -> Result<(), DbErr> {
    let org = ids.org;
    let users_before = User::find().count(db).await?;
    let deleted = Organization::delete_by_id(org).exec(db).await?;
    assert_eq!(deleted.rows_affected, 1);

    let left = [
        Domain::find()
            .filter(domain::Column::OrgId.eq(org))
            .count(db)
            .await?,
        Membership::find()
            .filter(membership::Column::OrgId.eq(org))
            .count(db)
            .await?,
        Connection::find()
            .filter(connection::Column::OrgId.eq(org))
            .count(db)
            .await?,
        Identity::find()
            .filter(identity::Column::OrgId.eq(org))
            .count(db)
            .await?,
        RoleMapping::find_by_id(org).count(db).await?,
        Session::find()
            .filter(session::Column::OrgId.eq(org))
            .count(db)
            .await?,
        Client::find()
            .filter(client::Column::OrgId.eq(org))
            .count(db)
            .await?,
        RefreshToken::find()
            .filter(refresh_token::Column::OrgId.eq(org))
            .count(db)
            .await?,
        ApiKey::find()
            .filter(api_key::Column::OrgId.eq(org))
            .count(db)
            .await?,
        ScimToken::find()
            .filter(scim_token::Column::OrgId.eq(org))
            .count(db)
            .await?,
        ScimGroup::find()
            .filter(scim_group::Column::OrgId.eq(org))
            .count(db)
            .await?,
        ScimGroupMember::find()
            .filter(scim_group_member::Column::OrgId.eq(org))
            .count(db)
            .await?,
        SetupLink::find()
            .filter(setup_link::Column::OrgId.eq(org))
            .count(db)
            .await?,
        OrgBranding::find_by_id(org).count(db).await?,
    ];
    assert_eq!(left, [0; 14], "org-owned rows left behind");

    // Users are global and the audit log has no foreign keys: both stay.
    assert_eq!(User::find().count(db).await?, users_before);
    let history = AuditEvent::find()
        .filter(audit_event::Column::OrgId.eq(org))
        .count(db)
        .await?;
    assert_eq!(history, 1);
    Ok(())
}

/// `server` with its database (path) replaced by `name`, keeping any query parameters.
fn with_database(server: &str, name: &str) -> String {
    let (scheme, rest) = server.split_once("://").unwrap_or(("postgres", server));
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, format!("?{query}")),
        None => (rest, String::new()),
    };
    let authority = rest
        .split_once('/')
        .map_or(rest, |(authority, _)| authority);
    format!("{scheme}://{authority}/{name}{query}")
}
