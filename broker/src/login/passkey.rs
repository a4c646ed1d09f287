//! Passkeys with `webauthn-rs`: registration (resident key and user verification required),
//! usernameless sign-in (discoverable credentials, also behind the email field's autofill), and
//! the account page's list, rename and delete. Ceremony state lives in the ephemeral store for
//! five minutes (by the broker's clock, whichever store holds it) and is taken once, so any
//! replica can finish what another started and a challenge cannot be answered twice. Refused
//! answers are audited: `user.sign_in_failed` for sign-in, `passkey.registration_failed` for
//! registration.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entities::passkey;
use entities::{PasskeyId, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use webauthn_rs::Webauthn;
use webauthn_rs::prelude::{
    Credential, DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential,
};
use webauthn_rs_proto::{
    AuthenticatorSelectionCriteria, ResidentKeyRequirement, UserVerificationPolicy,
};

use super::{ClientInfo, Proof, SignedIn, acr, limits::CREDENTIAL_CHECKS_PER_IP};
use crate::Broker;
use crate::audit::{self, AuditAction, Entry, Target};
use crate::crypto::random_token;
use crate::error::{Error, ErrorCode, Result};
use crate::store::EphemeralStoreExt as _;
use crate::user::User;

/// How long a browser has to answer a passkey prompt.
const CEREMONY_TTL: Duration = Duration::from_secs(300);
/// Longest accepted passkey name.
const MAX_NAME_LEN: usize = 64;

/// A passkey as the account page shows it.
pub type PasskeyRecord = passkey::Model;

/// Options for `navigator.credentials.create()`/`get()` and the id that finishes the ceremony.
#[derive(Debug, Clone, Serialize)]
pub struct Ceremony {
    /// Sent back with the browser's answer.
    pub ceremony: String,
    /// The WebAuthn options (`{"publicKey": …}`), as webauthn-rs produced them.
    pub options: serde_json::Value,
}

#[derive(Serialize, Deserialize)]
struct PendingRegistration {
    user_id: UserId,
    state: PasskeyRegistration,
    /// The store drops the state after [`CEREMONY_TTL`] too, but by its own clock (Redis's);
    /// this keeps the limit on the broker's.
    expires_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct PendingAuthentication {
    state: DiscoverableAuthentication,
    expires_at: DateTime<Utc>,
}

fn registration_key(id: &str) -> String {
    format!("passkey_registration:{id}")
}

fn authentication_key(id: &str) -> String {
    format!("passkey_authentication:{id}")
}

fn rejected(reason: impl std::fmt::Display) -> Error {
    Error::invalid(
        ErrorCode::PasskeyRejected,
        "credential",
        format!("the passkey response was not accepted: {reason}"),
    )
}

fn expired() -> Error {
    Error::new(
        ErrorCode::CeremonyExpired,
        "this passkey prompt expired or was already answered; try again",
    )
}

fn not_found(id: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::PasskeyNotFound, format!("no passkey '{id}'"))
}

/// Reads an assertion and the user and credential it names.
fn identify(
    webauthn: &Webauthn,
    credential: &serde_json::Value,
) -> Result<(PublicKeyCredential, uuid::Uuid, Vec<u8>)> {
    let answer: PublicKeyCredential =
        serde_json::from_value(credential.clone()).map_err(rejected)?;
    let (user_handle, credential_id) = webauthn
        .identify_discoverable_authentication(&answer)
        .map_err(rejected)?;
    let credential_id = credential_id.to_vec();
    Ok((answer, user_handle, credential_id))
}

/// Stores a verified passkey for `user` through `db` (the caller's transaction), audited as
/// `actor`; refuses an authenticator that is already registered.
pub(crate) async fn insert_passkey(
    db: &impl sea_orm::ConnectionTrait,
    now: DateTime<Utc>,
    user: UserId,
    passkey: &Passkey,
    name: &str,
    actor: &crate::actor::Actor,
) -> Result<PasskeyRecord> {
    let credential_id = passkey.cred_id().to_vec();
    let internals = Credential::from(passkey.clone());
    let taken = passkey::Entity::find()
        .filter(passkey::Column::CredentialId.eq(credential_id.clone()))
        .one(db)
        .await?
        .is_some();
    if taken {
        return Err(Error::new(
            ErrorCode::PasskeyAlreadyRegistered,
            "this authenticator is already registered",
        ));
    }
    let record = passkey::ActiveModel {
        id: Set(PasskeyId::new()),
        user_id: Set(user),
        credential_id: Set(credential_id),
        name: Set(name.to_owned()),
        passkey: Set(serde_json::to_value(passkey).map_err(Error::internal)?),
        aaguid: Set(None),
        backup_eligible: Set(internals.backup_eligible),
        backup_state: Set(internals.backup_state),
        sign_count: Set(i64::from(internals.counter)),
        created_at: Set(now),
        last_used_at: Set(None),
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        now,
        Entry {
            actor,
            org: None,
            action: AuditAction::PasskeyAdded,
            target: Target::new("passkey", record.id),
            data: json!({ "name": name, "backup_eligible": record.backup_eligible }),
        },
    )
    .await?;
    Ok(record)
}

/// A passkey's name: trimmed, 1-64 characters, no control characters.
pub(crate) fn passkey_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN || name.chars().any(char::is_control)
    {
        return Err(Error::invalid(
            ErrorCode::InvalidName,
            "name",
            "a passkey name is 1-64 characters without control characters",
        ));
    }
    Ok(name.to_owned())
}

impl Broker {
    /// Starts registering a passkey for a signed-in user.
    pub async fn start_passkey_registration(&self, user: &User) -> Result<Ceremony> {
        let existing = self.passkeys_of(user.id).await?;
        let exclude = existing
            .iter()
            .map(|p| p.credential_id.clone())
            .collect::<Vec<_>>();
        let email = user.email.clone().unwrap_or_else(|| user.id.to_string());
        let display = user.name.clone().unwrap_or_else(|| email.clone());
        let (mut options, state) = self
            .login_settings()
            .webauthn()?
            .start_passkey_registration(user.id.as_uuid(), &email, &display, Some(exclude))
            .map_err(Error::internal)?;
        // webauthn-rs asks for a non-resident key; usernameless sign-in needs a discoverable
        // credential, verified by the authenticator.
        options.public_key.authenticator_selection = Some(AuthenticatorSelectionCriteria {
            authenticator_attachment: None,
            resident_key: Some(ResidentKeyRequirement::Required),
            require_resident_key: true,
            user_verification: UserVerificationPolicy::Required,
        });
        let ceremony = random_token::<24>();
        self.store()
            .put_json(
                &registration_key(&ceremony),
                &PendingRegistration {
                    user_id: user.id,
                    state,
                    expires_at: self.ceremony_deadline(),
                },
                CEREMONY_TTL,
            )
            .await?;
        Ok(Ceremony {
            ceremony,
            options: serde_json::to_value(&options).map_err(Error::internal)?,
        })
    }

    /// Finishes a registration with the browser's answer and stores the passkey. A refused
    /// answer stores nothing and is audited.
    pub async fn finish_passkey_registration(
        &self,
        user: &User,
        ceremony: &str,
        credential: &serde_json::Value,
        name: Option<&str>,
        client: &ClientInfo,
    ) -> Result<PasskeyRecord> {
        let name = passkey_name(name.unwrap_or("Passkey"))?;
        match self
            .register_passkey(user, ceremony, credential, &name, client)
            .await
        {
            Ok(record) => Ok(record),
            Err((None, error)) => Err(error),
            Err((Some(reason), error)) => {
                audit::record(
                    self.db(),
                    self.now(),
                    Entry {
                        actor: &client.actor(Some(user.id)),
                        org: None,
                        action: AuditAction::PasskeyRegistrationFailed,
                        target: Target::new("user", user.id),
                        data: json!({ "reason": reason }),
                    },
                )
                .await?;
                Err(error)
            }
        }
    }

    /// Checks the answer and stores the passkey; on refusal, why (for the audit log), or no
    /// reason when the failure is ours (database, store).
    async fn register_passkey(
        &self,
        user: &User,
        ceremony: &str,
        credential: &serde_json::Value,
        name: &str,
        client: &ClientInfo,
    ) -> std::result::Result<PasskeyRecord, (Option<&'static str>, Error)> {
        let passkey = self
            .verify_passkey_registration(user.id, ceremony, credential)
            .await?;
        self.store_passkey(user, &passkey, name, client)
            .await
            .map_err(|e| match e.code() {
                ErrorCode::PasskeyAlreadyRegistered => (Some("already_registered"), e),
                _ => (None, e),
            })
    }

    /// Checks the browser's answer to a registration started for `user` (who need not exist
    /// yet: the first admin's account is created only once the passkey verifies) and returns
    /// the passkey, unstored; on refusal, why, or no reason when the failure is ours.
    pub(crate) async fn verify_passkey_registration(
        &self,
        user: UserId,
        ceremony: &str,
        credential: &serde_json::Value,
    ) -> std::result::Result<Passkey, (Option<&'static str>, Error)> {
        let internal = |e: Error| (None, e);
        let refused = |reason: &'static str| move |e: Error| (Some(reason), e);
        let now = self.now();
        let pending: PendingRegistration = self
            .store()
            .take_json(&registration_key(ceremony))
            .await
            .map_err(|e| internal(e.into()))?
            .filter(|p: &PendingRegistration| p.user_id == user && now < p.expires_at)
            .ok_or_else(|| refused("ceremony_expired")(expired()))?;
        let answer: RegisterPublicKeyCredential = serde_json::from_value(credential.clone())
            .map_err(|e| refused("malformed")(rejected(e)))?;
        self.login_settings()
            .webauthn()
            .map_err(internal)?
            .finish_passkey_registration(&answer, &pending.state)
            .map_err(|e| refused("verification_failed")(rejected(e)))
    }

    async fn store_passkey(
        &self,
        user: &User,
        passkey: &Passkey,
        name: &str,
        client: &ClientInfo,
    ) -> Result<PasskeyRecord> {
        let txn = self.begin_write().await?;
        let record = insert_passkey(
            &txn,
            self.now(),
            user.id,
            passkey,
            name,
            &client.actor(Some(user.id)),
        )
        .await?;
        txn.commit().await?;
        Ok(record)
    }

    fn ceremony_deadline(&self) -> DateTime<Utc> {
        self.now() + chrono::Duration::from_std(CEREMONY_TTL).unwrap_or_default()
    }

    /// Starts a usernameless sign-in: the browser offers the user's passkeys for this site.
    pub async fn start_passkey_sign_in(&self) -> Result<Ceremony> {
        let (options, state) = self
            .login_settings()
            .webauthn()?
            .start_discoverable_authentication()
            .map_err(Error::internal)?;
        let ceremony = random_token::<24>();
        let pending = PendingAuthentication {
            state,
            expires_at: self.ceremony_deadline(),
        };
        self.store()
            .put_json(&authentication_key(&ceremony), &pending, CEREMONY_TTL)
            .await?;
        Ok(Ceremony {
            ceremony,
            options: serde_json::to_value(&options).map_err(Error::internal)?,
        })
    }

    /// Verifies the browser's assertion and returns the user and how they signed in; the
    /// caller decides whether that is a sign-in or a second factor.
    pub(crate) async fn verify_passkey(
        &self,
        ceremony: &str,
        credential: &serde_json::Value,
        client: &ClientInfo,
    ) -> Result<(User, Proof)> {
        self.count_against(CREDENTIAL_CHECKS_PER_IP, client.ip_subject())
            .await?;
        let now = self.now();
        let pending: Option<PendingAuthentication> = self
            .store()
            .take_json(&authentication_key(ceremony))
            .await?;
        let Some(PendingAuthentication { state, .. }) = pending.filter(|p| now < p.expires_at)
        else {
            self.record_sign_in_failure(None, "passkey", "ceremony_expired", client)
                .await?;
            return Err(expired());
        };
        let webauthn = self.login_settings().webauthn()?;
        let (answer, user_handle, credential_id) = match identify(webauthn, credential) {
            Ok(found) => found,
            Err(error) => {
                self.record_sign_in_failure(None, "passkey", "malformed", client)
                    .await?;
                return Err(error);
            }
        };
        let row = passkey::Entity::find()
            .filter(passkey::Column::CredentialId.eq(credential_id))
            .filter(passkey::Column::UserId.eq(UserId::from(user_handle)))
            .one(self.db())
            .await?;
        let Some(row) = row else {
            self.record_sign_in_failure(None, "passkey", "unknown_credential", client)
                .await?;
            return Err(Error::new(
                ErrorCode::PasskeyUnknown,
                "this passkey is not registered here; it may have been removed",
            ));
        };
        let user = crate::user::find(self.db(), row.user_id)
            .await?
            .ok_or_else(|| crate::user::not_found(row.user_id))?;
        self.check_not_locked(user.id).await?;
        let mut stored: Passkey = serde_json::from_value(row.passkey.clone()).map_err(|e| {
            Error::internal(format!("stored passkey {} is unreadable: {e}", row.id))
        })?;
        let result = match webauthn.finish_discoverable_authentication_v2(&answer, state, &stored) {
            Ok(result) => result,
            Err(e) => {
                self.record_sign_in_failure(Some(&user), "passkey", "verification_failed", client)
                    .await?;
                return Err(rejected(e));
            }
        };
        stored.update_credential(&result);
        passkey::Entity::update_many()
            .col_expr(
                passkey::Column::Passkey,
                Expr::value(serde_json::to_value(&stored).map_err(Error::internal)?),
            )
            .col_expr(
                passkey::Column::SignCount,
                Expr::value(i64::from(result.counter())),
            )
            .col_expr(
                passkey::Column::BackupEligible,
                Expr::value(result.backup_eligible()),
            )
            .col_expr(
                passkey::Column::BackupState,
                Expr::value(result.backup_state()),
            )
            .col_expr(passkey::Column::LastUsedAt, Expr::value(self.now()))
            .filter(passkey::Column::Id.eq(row.id))
            .exec(self.db())
            .await?;
        let key_kind = if result.backup_eligible() {
            "swk"
        } else {
            "hwk"
        };
        Ok((
            user,
            Proof {
                method: "passkey",
                amr: vec![key_kind.to_owned(), "user".to_owned(), "mfa".to_owned()],
                acr: acr::PHISHING_RESISTANT,
            },
        ))
    }

    /// Finishes a usernameless sign-in.
    pub async fn finish_passkey_sign_in(
        &self,
        ceremony: &str,
        credential: &serde_json::Value,
        client: &ClientInfo,
    ) -> Result<SignedIn> {
        let (user, proof) = self.verify_passkey(ceremony, credential, client).await?;
        self.complete_sign_in(user, proof, client).await
    }

    /// The user's passkeys, oldest first.
    pub async fn passkeys_of(&self, user: UserId) -> Result<Vec<PasskeyRecord>> {
        Ok(passkey::Entity::find()
            .filter(passkey::Column::UserId.eq(user))
            .order_by_asc(passkey::Column::CreatedAt)
            .all(self.db())
            .await?)
    }

    /// Renames one of the user's passkeys.
    pub async fn rename_passkey(
        &self,
        user: UserId,
        id: PasskeyId,
        name: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        let name = passkey_name(name)?;
        let txn = self.begin_write().await?;
        let updated = passkey::Entity::update_many()
            .col_expr(passkey::Column::Name, Expr::value(name.clone()))
            .filter(passkey::Column::Id.eq(id))
            .filter(passkey::Column::UserId.eq(user))
            .exec(&txn)
            .await?;
        if updated.rows_affected == 0 {
            return Err(not_found(id));
        }
        audit::record(
            &txn,
            self.now(),
            Entry {
                actor: &client.actor(Some(user)),
                org: None,
                action: AuditAction::PasskeyRenamed,
                target: Target::new("passkey", id),
                data: json!({ "name": name }),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Removes one of the user's passkeys.
    pub async fn delete_passkey(
        &self,
        user: UserId,
        id: PasskeyId,
        client: &ClientInfo,
    ) -> Result<()> {
        let txn = self.begin_write().await?;
        let deleted = passkey::Entity::delete_many()
            .filter(passkey::Column::Id.eq(id))
            .filter(passkey::Column::UserId.eq(user))
            .exec(&txn)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(not_found(id));
        }
        audit::record(
            &txn,
            self.now(),
            Entry {
                actor: &client.actor(Some(user)),
                org: None,
                action: AuditAction::PasskeyRemoved,
                target: Target::new("passkey", id),
                data: json!({}),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
}
