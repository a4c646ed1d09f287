//! One row for every table, inserted through the entities and compared column by column.

use std::fmt::Debug;

use chrono::{DateTime, TimeDelta, Utc};
use entities::prelude::*;
use entities::*;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel,
    PrimaryKeyTrait,
};
use serde_json::json;

/// The ids the fixture rows point at one another with.
pub struct Ids {
    pub org: OrgId,
    pub user: UserId,
    pub connection: ConnectionId,
    pub session: SessionId,
    pub client: ClientId,
    pub group: ScimGroupId,
}

impl Ids {
    pub fn new() -> Self {
        Self {
            org: OrgId::new(),
            user: UserId::new(),
            connection: ConnectionId::new(),
            session: SessionId::new(),
            client: ClientId::new(),
            group: ScimGroupId::new(),
        }
    }
}

/// A fixed instant plus `secs`: whole seconds survive every backend's timestamp precision.
pub fn at(secs: i64) -> DateTime<Utc> {
    DateTime::UNIX_EPOCH + TimeDelta::seconds(1_795_000_000 + secs)
}

/// Inserts `row` through its ActiveModel, then checks that both the row the INSERT returned
/// and the one `find_by_id` reads back equal it in every column.
pub async fn round_trip<E>(
    db: &DatabaseConnection,
    row: E::Model,
    id: impl Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
) -> Result<(), DbErr>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel> + Clone + PartialEq + Debug,
    E::ActiveModel: ActiveModelBehavior + Send,
{
    let table = E::default().table_name();
    let active: E::ActiveModel = row.clone().into_active_model();
    let inserted = active.reset_all().insert(db).await?;
    assert_eq!(inserted, row, "{table}: row returned by INSERT");
    let found = E::find_by_id(id).one(db).await?;
    assert_eq!(found.as_ref(), Some(&row), "{table}: row read back");
    Ok(())
}

pub async fn insert_tenancy(db: &DatabaseConnection, ids: &Ids) -> Result<(), DbErr> {
    let org = organization::Model {
        id: ids.org,
        slug: "tessera".into(),
        name: "Tessera Inc.".into(),
        require_sso: true,
        created_at: at(0),
        updated_at: at(1),
    };
    round_trip::<Organization>(db, org, ids.org).await?;
    let id = DomainId::new();
    let domain = domain::Model {
        id,
        org_id: ids.org,
        domain: "tessera.example".into(),
        verified: true,
        verification_token: "tessera-verify=abc".into(),
        verification_method: Some(VerificationMethod::DnsTxt),
        verified_at: Some(at(2)),
        created_at: at(0),
    };
    round_trip::<Domain>(db, domain, id).await?;
    let user = user::Model {
        id: ids.user,
        email: Some("ada@tessera.example".into()),
        email_verified: true,
        name: Some("Ada Lovelace".into()),
        given_name: Some("Ada".into()),
        family_name: Some("Lovelace".into()),
        status: UserStatus::Active,
        created_at: at(0),
        updated_at: at(1),
        last_login_at: None,
    };
    round_trip::<User>(db, user, ids.user).await?;
    let id = MembershipId::new();
    let membership = membership::Model {
        id,
        org_id: ids.org,
        user_id: ids.user,
        roles: json!(["admin", "viewer"]),
        status: MembershipStatus::Active,
        source: MembershipSource::Scim,
        created_at: at(0),
        updated_at: at(0),
    };
    round_trip::<Membership>(db, membership, id).await
}

pub async fn insert_federation(db: &DatabaseConnection, ids: &Ids) -> Result<(), DbErr> {
    let connection = connection::Model {
        id: ids.connection,
        org_id: Some(ids.org),
        kind: ConnectionKind::Saml,
        name: "Entra ID".into(),
        preset: Some("entra".into()),
        status: ConnectionStatus::Active,
        config: json!({"metadata_url": "https://idp.example/metadata"}),
        secrets_encrypted: Some(vec![0, 1, 2, 255]),
        created_at: at(0),
        updated_at: at(0),
    };
    round_trip::<Connection>(db, connection, ids.connection).await?;
    let id = IdentityId::new();
    let identity = identity::Model {
        id,
        user_id: ids.user,
        org_id: Some(ids.org),
        connection_id: ids.connection,
        subject: "00u1abcd".into(),
        raw_claims: json!({"groups": ["eng"], "email_verified": true}),
        created_at: at(0),
        last_login_at: Some(at(5)),
    };
    round_trip::<Identity>(db, identity, id).await?;
    let mapping = role_mapping::Model {
        org_id: ids.org,
        rules: json!([{"claim": "groups", "op": "contains", "value": "eng", "role": "dev"}]),
        default_role: Some("viewer".into()),
        deny_unmatched: false,
        updated_at: at(0),
    };
    round_trip::<RoleMapping>(db, mapping, ids.org).await
}

pub async fn insert_local_credentials(db: &DatabaseConnection, ids: &Ids) -> Result<(), DbErr> {
    let id = PasskeyId::new();
    let passkey = passkey::Model {
        id,
        user_id: ids.user,
        credential_id: vec![9; 32],
        name: "YubiKey".into(),
        passkey: json!({"cred": {"counter": 7}}),
        aaguid: Some(uuid::Uuid::from_u128(
            0xcb69_481e_8ff7_4039_93ec_0a27_29a1_54a8,
        )),
        backup_eligible: true,
        backup_state: false,
        sign_count: 4_294_967_295,
        created_at: at(0),
        last_used_at: None,
    };
    round_trip::<Passkey>(db, passkey, id).await?;
    let password = password_credential::Model {
        user_id: ids.user,
        hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: at(0),
        updated_at: at(0),
    };
    round_trip::<PasswordCredential>(db, password, ids.user).await?;
    let totp = totp_secret::Model {
        user_id: ids.user,
        secret_encrypted: vec![1; 48],
        confirmed_at: Some(at(1)),
        last_used_step: Some(59_833_333),
        created_at: at(0),
    };
    round_trip::<TotpSecret>(db, totp, ids.user).await?;
    let id = RecoveryCodeId::new();
    let code = recovery_code::Model {
        id,
        user_id: ids.user,
        code_hash: vec![2; 32],
        used_at: None,
        created_at: at(0),
    };
    round_trip::<RecoveryCode>(db, code, id).await
}

pub async fn insert_sessions_and_clients(db: &DatabaseConnection, ids: &Ids) -> Result<(), DbErr> {
    let session = session_row(ids.session, ids.user, Some(ids.org), 3);
    round_trip::<Session>(db, session, ids.session).await?;
    let client = client_row(ids.client, Some(ids.org));
    round_trip::<Client>(db, client, ids.client).await?;
    let id = RefreshTokenId::new();
    let token = refresh_token_row(id, ids.client, ids.user, Some(ids.org), ids.session, 4);
    round_trip::<RefreshToken>(db, token, id).await?;
    let id = ApiKeyId::new();
    let key = api_key::Model {
        id,
        name: "CI".into(),
        prefix: "tsk_ab12".into(),
        key_hash: vec![5; 32],
        owner_kind: ApiKeyOwner::Org,
        org_id: Some(ids.org),
        user_id: None,
        scopes: json!(["orgs:read"]),
        expires_at: Some(at(86_400)),
        last_used_at: None,
        created_at: at(0),
        revoked_at: None,
    };
    round_trip::<ApiKey>(db, key, id).await
}

pub fn session_row(id: SessionId, user: UserId, org: Option<OrgId>, seed: u8) -> session::Model {
    session::Model {
        id,
        user_id: user,
        org_id: org,
        token_hash: vec![seed; 32],
        amr: json!(["hwk", "user"]),
        acr: None,
        auth_time: at(0),
        created_at: at(0),
        last_seen_at: at(60),
        idle_expires_at: at(3_600),
        expires_at: at(86_400),
        user_agent: Some("Mozilla/5.0".into()),
        ip: Some("2001:db8::1".into()),
        revoked_at: None,
    }
}

pub fn client_row(id: ClientId, org: Option<OrgId>) -> client::Model {
    client::Model {
        id,
        org_id: org,
        name: "Dashboard".into(),
        client_type: ClientType::Confidential,
        secret_hash: Some(vec![3; 32]),
        redirect_uris: json!(["https://app.example/callback"]),
        post_logout_redirect_uris: json!([]),
        grant_types: json!(["authorization_code", "refresh_token"]),
        scopes: json!(["openid", "profile"]),
        token_endpoint_auth_method: "client_secret_basic".into(),
        id_token_signed_response_alg: Some(SigningAlg::Es256),
        custom_claims: json!({"tier": "gold"}),
        require_pkce: true,
        first_party: true,
        backchannel_logout_uri: None,
        created_at: at(0),
        updated_at: at(0),
    }
}

pub fn refresh_token_row(
    id: RefreshTokenId,
    client: ClientId,
    user: UserId,
    org: Option<OrgId>,
    session: SessionId,
    seed: u8,
) -> refresh_token::Model {
    refresh_token::Model {
        id,
        token_hash: vec![seed; 32],
        family_id: TokenFamilyId::new(),
        client_id: client,
        user_id: Some(user),
        org_id: org,
        session_id: Some(session),
        scope: "openid profile offline_access".into(),
        created_at: at(0),
        expires_at: at(3_600),
        absolute_expires_at: at(2_592_000),
        rotated_at: None,
        revoked_at: None,
        auth_time: None,
        amr: None,
        acr: None,
        resources: None,
    }
}

pub async fn insert_directory(db: &DatabaseConnection, ids: &Ids) -> Result<(), DbErr> {
    let id = ScimTokenId::new();
    let token = scim_token::Model {
        id,
        org_id: ids.org,
        name: "Okta provisioning".into(),
        prefix: "tst_cd34".into(),
        token_hash: vec![6; 32],
        expires_at: None,
        last_used_at: Some(at(10)),
        created_at: at(0),
        revoked_at: None,
    };
    round_trip::<ScimToken>(db, token, id).await?;
    let group = scim_group::Model {
        id: ids.group,
        org_id: ids.org,
        display_name: "Engineering".into(),
        display_name_norm: "engineering".into(),
        external_id: Some("00g1eng".into()),
        version: 1,
        created_at: at(0),
        updated_at: at(0),
    };
    round_trip::<ScimGroup>(db, group, ids.group).await?;
    let member = scim_group_member::Model {
        group_id: ids.group,
        user_id: ids.user,
        org_id: ids.org,
        created_at: at(0),
    };
    round_trip::<ScimGroupMember>(db, member, (ids.group, ids.user)).await
}

pub async fn insert_keys_and_audit(db: &DatabaseConnection, ids: &Ids) -> Result<(), DbErr> {
    let id = SigningKeyId::new();
    let key = signing_key::Model {
        id,
        kid: "2026-11-ed".into(),
        alg: SigningAlg::EdDsa,
        state: KeyState::Current,
        private_key_encrypted: vec![7; 64],
        public_jwk: json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg"}),
        created_at: at(0),
        activated_at: Some(at(1)),
        retired_at: None,
        expires_at: None,
    };
    round_trip::<SigningKey>(db, key, id).await?;
    let id = AuditEventId::new();
    let event = audit_event::Model {
        id,
        org_id: Some(ids.org),
        actor_kind: "user".into(),
        actor_id: Some(ids.user.to_string()),
        action: "connection.activated".into(),
        target_kind: Some("connection".into()),
        target_id: Some(ids.connection.to_string()),
        data: json!({"name": "Entra ID"}),
        ip: Some("192.0.2.1".into()),
        request_id: Some("req-1".into()),
        created_at: at(0),
    };
    round_trip::<AuditEvent>(db, event, id).await?;
    let id = SetupLinkId::new();
    let link = setup_link::Model {
        id,
        org_id: ids.org,
        token_hash: vec![8; 32],
        created_by: Some(ids.user),
        label: Some("Jane, Acme IT".into()),
        expires_at: at(604_800),
        used_at: None,
        revoked_at: None,
        created_at: at(0),
    };
    round_trip::<SetupLink>(db, link, id).await?;
    let admin = instance_admin::Model {
        user_id: ids.user,
        created_at: at(0),
    };
    round_trip::<InstanceAdmin>(db, admin, ids.user).await?;
    let branding = org_branding::Model {
        org_id: ids.org,
        display_name: Some("Acme".into()),
        color: Some("#0b5394".into()),
        logo: Some(vec![0x89, b'P', b'N', b'G']),
        logo_type: Some("image/png".into()),
        updated_at: at(0),
    };
    round_trip::<OrgBranding>(db, branding, ids.org).await
}
