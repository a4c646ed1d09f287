//! The first instance administrator, with no database or command line involved: while there is
//! none, each start issues a one-time link (printed in the log); whoever opens it gives their
//! email and name and registers a passkey, and becomes the first instance admin, signed in.
//! Links live in the ephemeral store for a day and are spent once; once an instance admin
//! exists, no link is issued and unspent ones stop working.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entities::{UserId, instance_admin, user};
use sea_orm::{ActiveValue::Set, EntityTrait};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::Broker;
use crate::audit::{self, AuditAction, Entry, Target};
use crate::crypto::{random_token, secret_digest};
use crate::error::{Error, ErrorCode, Result};
use crate::login::passkey::{Ceremony, insert_passkey, passkey_name};
use crate::login::{ClientInfo, Proof, SignedIn, acr};
use crate::rate_limit::{API_KEY_FAILURES_PER_IP, Limit};
use crate::store::EphemeralStoreExt as _;
use crate::user::{User, find_by_email};
use crate::validate;

/// How long a first-admin link works.
pub const LINK_TTL: Duration = Duration::from_secs(24 * 3600);
/// Every first-admin link's token starts with this.
pub const TOKEN_PREFIX: &str = "tfa_";
/// The path a first-admin link opens (followed by the token).
pub const LINK_PATH: &str = "/admin/first-admin/";
/// How long the person has to answer the passkey prompt.
const CEREMONY_TTL: Duration = Duration::from_secs(300);
/// Failed link checks per client IP per minute (shared with API keys: both guess secrets).
const FAILURES_PER_IP: Limit = API_KEY_FAILURES_PER_IP;

#[derive(Serialize, Deserialize)]
struct PendingLink {
    expires_at: DateTime<Utc>,
}

/// Who is becoming the first admin, between the passkey prompt and its answer.
#[derive(Serialize, Deserialize)]
struct PendingAdmin {
    link: String,
    user_id: UserId,
    email: String,
    name: String,
    expires_at: DateTime<Utc>,
}

fn link_key(token: &str) -> String {
    format!("first-admin:{}", secret_digest(token))
}

fn ceremony_key(ceremony: &str) -> String {
    format!("first-admin-ceremony:{ceremony}")
}

/// While set, one first admin is being created (two links from two replicas cannot both win).
const CLAIM_KEY: &str = "first-admin-claim";

fn invalid_link() -> Error {
    Error::new(
        ErrorCode::FirstAdminLinkInvalid,
        "this first-admin link is unknown, expired or used, or an administrator exists already",
    )
}

impl Broker {
    /// Issues a first-admin link when there is no instance admin yet (returns its URL, to be
    /// printed once), or `None`.
    pub async fn first_admin_link(&self) -> Result<Option<SecretString>> {
        if self.has_instance_admin().await? {
            return Ok(None);
        }
        let token = format!("{TOKEN_PREFIX}{}", random_token::<32>());
        let expires_at = self.now() + chrono::Duration::from_std(LINK_TTL).unwrap_or_default();
        self.store()
            .put_json(&link_key(&token), &PendingLink { expires_at }, LINK_TTL)
            .await?;
        let url = self.login_settings().url_of(&format!("{LINK_PATH}{token}"));
        Ok(Some(SecretString::from(url)))
    }

    /// Checks a first-admin link before showing its page; failures count against the
    /// client's IP.
    pub async fn check_first_admin_link(&self, token: &str, client: &ClientInfo) -> Result<()> {
        let live = match self
            .store()
            .get_json::<PendingLink>(&link_key(token))
            .await?
        {
            Some(link) => link.expires_at > self.now() && !self.has_instance_admin().await?,
            None => false,
        };
        if live {
            return Ok(());
        }
        self.count_against(FAILURES_PER_IP, client.ip_subject())
            .await?;
        Err(invalid_link())
    }

    /// Starts the passkey registration of the first admin (`email`, `name`) behind a live link.
    pub async fn start_first_admin(
        &self,
        token: &str,
        email: &str,
        name: &str,
        client: &ClientInfo,
    ) -> Result<Ceremony> {
        let email = validate::email("email", email)?;
        let name = validate::name("name", name)?;
        self.check_first_admin_link(token, client).await?;
        let now = self.now();
        let existing = find_by_email(self.db(), &email).await?;
        let user_id = existing.as_ref().map_or_else(UserId::new, |u| u.id);
        let future = User {
            id: user_id,
            email: Some(email.clone()),
            email_verified: false,
            name: Some(name.clone()),
            given_name: None,
            family_name: None,
            status: entities::UserStatus::Active,
            created_at: now,
            updated_at: now,
            last_login_at: None,
        };
        let ceremony = self.start_passkey_registration(&future).await?;
        let pending = PendingAdmin {
            link: token.to_owned(),
            user_id,
            email,
            name,
            expires_at: now + chrono::Duration::from_std(CEREMONY_TTL).unwrap_or_default(),
        };
        self.store()
            .put_json(&ceremony_key(&ceremony.ceremony), &pending, CEREMONY_TTL)
            .await?;
        Ok(ceremony)
    }

    /// Finishes: checks the passkey, spends the link, then creates (or finds) the user, stores
    /// the passkey and makes them instance admin in one transaction, and signs them in.
    pub async fn finish_first_admin(
        &self,
        token: &str,
        ceremony: &str,
        credential: &serde_json::Value,
        client: &ClientInfo,
    ) -> Result<SignedIn> {
        let pending: PendingAdmin = self
            .store()
            .take_json(&ceremony_key(ceremony))
            .await?
            .filter(|p: &PendingAdmin| p.link == token && p.expires_at > self.now())
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::CeremonyExpired,
                    "the passkey prompt expired; start again",
                )
            })?;
        self.check_first_admin_link(token, client).await?;
        let passkey = self
            .verify_passkey_registration(pending.user_id, ceremony, credential)
            .await
            .map_err(|(_, e)| e)?;
        // Spend the link, then hold the claim: a second link (another replica's) cannot make a
        // second first admin at the same time.
        let spent = self.store().take(&link_key(token)).await?.is_some();
        let claimed = spent
            && self
                .store()
                .put_new(CLAIM_KEY, b"1", Duration::from_secs(60))
                .await?;
        if !claimed {
            return Err(invalid_link());
        }
        let user = self.create_first_admin(&pending, &passkey, client).await?;
        let proof = Proof {
            method: "passkey",
            amr: vec!["swk".to_owned(), "user".to_owned(), "mfa".to_owned()],
            acr: acr::PHISHING_RESISTANT,
        };
        self.complete_sign_in(user, proof, client).await
    }

    async fn create_first_admin(
        &self,
        pending: &PendingAdmin,
        passkey: &webauthn_rs::prelude::Passkey,
        client: &ClientInfo,
    ) -> Result<User> {
        let now = self.now();
        let txn = self.begin_write().await?;
        if instance_admin::Entity::find().one(&txn).await?.is_some() {
            return Err(invalid_link());
        }
        let actor = client.actor(Some(pending.user_id));
        let user = match crate::user::find(&txn, pending.user_id).await? {
            Some(user) => user,
            // The passkey's user handle is the id chosen at the prompt: the account gets it.
            None => insert_user(&txn, now, &actor, pending).await?,
        };
        if user.name.is_none() {
            user::Entity::update(user::ActiveModel {
                id: Set(user.id),
                name: Set(Some(pending.name.clone())),
                updated_at: Set(now),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
        }
        let name = passkey_name("Administrator passkey")?;
        insert_passkey(&txn, now, user.id, passkey, &name, &actor).await?;
        instance_admin::Entity::insert(instance_admin::ActiveModel {
            user_id: Set(user.id),
            created_at: Set(now),
        })
        .exec(&txn)
        .await?;
        audit::record(
            &txn,
            now,
            Entry {
                actor: &actor,
                org: None,
                action: AuditAction::InstanceAdminAdded,
                target: Target::new("user", user.id),
                data: json!({ "how": "first_admin_link", "email": pending.email }),
            },
        )
        .await?;
        txn.commit().await?;
        self.user(user.id).await
    }
}

/// Creates the first admin's account with the id their passkey was registered for; an address
/// taken since the prompt refuses (the link stays spent: start again with a new one).
async fn insert_user(
    db: &impl sea_orm::ConnectionTrait,
    now: DateTime<Utc>,
    actor: &crate::actor::Actor,
    pending: &PendingAdmin,
) -> Result<User> {
    if find_by_email(db, &pending.email).await?.is_some() {
        return Err(invalid_link());
    }
    let created = user::ActiveModel {
        id: Set(pending.user_id),
        email: Set(Some(pending.email.clone())),
        email_verified: Set(false),
        name: Set(Some(pending.name.clone())),
        given_name: Set(None),
        family_name: Set(None),
        status: Set(entities::UserStatus::Active),
        created_at: Set(now),
        updated_at: Set(now),
        last_login_at: Set(None),
    };
    let user = sea_orm::ActiveModelTrait::insert(created, db).await?;
    audit::record(
        db,
        now,
        Entry {
            actor,
            org: None,
            action: AuditAction::UserCreated,
            target: Target::new("user", user.id),
            data: json!({ "email": pending.email }),
        },
    )
    .await?;
    Ok(user)
}
