//! Second factors: authenticator apps (TOTP, RFC 6238, with the otpauth URI and a QR code),
//! passkeys as a second factor for password users, and ten single-use recovery codes. After a
//! first factor, a user who has a second factor gets a short-lived ticket instead of a session,
//! and the session starts only when the ticket is redeemed with the second factor.

use std::time::Duration;

use entities::{RecoveryCodeId, UserId, recovery_code, totp_secret};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, sea_query::OnConflict,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use totp_rs::{Builder, Totp};

use super::limits::CREDENTIAL_CHECKS_PER_IP;
use super::{ClientInfo, Proof, SignedIn, acr};
use crate::Broker;
use crate::audit::{self, AuditAction, Entry, Target};
use crate::crypto::{hash_secret, random_bytes, random_token, secret_digest};
use crate::error::{Error, ErrorCode, Result};
use crate::store::EphemeralStoreExt as _;
use crate::user::User;

/// How long a user has to give the second factor after the first.
const TICKET_TTL: Duration = Duration::from_secs(600);
/// Wrong second-factor answers allowed per ticket.
const TICKET_ATTEMPTS: u64 = 5;
/// Recovery codes per set.
pub const RECOVERY_CODES: usize = 10;
/// The master-key context TOTP seeds are encrypted under.
const TOTP_CONTEXT: &str = "totp_secret";

/// Where a sign-in stands after the first factor.
#[derive(Debug)]
pub enum SignInStep {
    /// Signed in.
    Done {
        /// The session.
        signed_in: Box<SignedIn>,
        /// Where to continue.
        return_to: Option<String>,
    },
    /// The user must also give a second factor, on the page that takes this ticket.
    SecondFactor {
        /// Names the pending sign-in (random, single use).
        ticket: String,
        /// Which second factors the user has.
        methods: SecondFactors,
    },
}

/// The second factors a user has set up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactors {
    /// A confirmed authenticator app.
    pub totp: bool,
    /// At least one passkey.
    pub passkey: bool,
    /// How many unused recovery codes are left.
    pub recovery_codes_left: usize,
}

impl SecondFactors {
    /// Whether an unused recovery code is left.
    pub fn has_recovery_codes(&self) -> bool {
        self.recovery_codes_left > 0
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Ticket {
    user_id: UserId,
    method: String,
    amr: Vec<String>,
    return_to: Option<String>,
}

/// A TOTP enrolment waiting for its first code.
#[derive(Debug, Clone)]
pub struct TotpEnrolment {
    /// `otpauth://totp/...` for authenticator apps.
    pub uri: String,
    /// The same as a QR code, an SVG document.
    pub qr_svg: String,
    /// The seed in base32, for typing by hand.
    pub secret_base32: String,
}

fn ticket_key(ticket: &str) -> String {
    format!("second_factor:{}", secret_digest(ticket))
}

fn invalid_second_factor() -> Error {
    Error::invalid(
        ErrorCode::SecondFactorInvalid,
        "code",
        "that code is not right, or it was already used",
    )
}

fn totp_for(seed: Vec<u8>, account: &str) -> Result<Totp> {
    Builder::new()
        .with_secret(seed)
        .with_account_name(account)
        .with_issuer(Some("Tessera"))
        .build()
        .map_err(|e| Error::internal(format!("totp: {e:?}")))
}

/// A recovery code: ten base32 characters as two groups (`abcde-fghij`), 50 bits.
fn new_recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let bytes = random_bytes::<10>();
    let chars: String = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

fn normalize_recovery_code(code: &str) -> String {
    let plain: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if plain.len() == 10 {
        format!("{}-{}", &plain[..5], &plain[5..])
    } else {
        plain
    }
}

impl Broker {
    /// The second factors `user` has.
    pub async fn second_factors(&self, user: UserId) -> Result<SecondFactors> {
        let totp = totp_secret::Entity::find_by_id(user)
            .one(self.db())
            .await?
            .is_some_and(|t| t.confirmed_at.is_some());
        let passkey = !self.passkeys_of(user).await?.is_empty();
        Ok(SecondFactors {
            totp,
            passkey,
            recovery_codes_left: self.recovery_codes_left(user).await?,
        })
    }

    /// How many unused recovery codes the user has.
    pub async fn recovery_codes_left(&self, user: UserId) -> Result<usize> {
        let left = recovery_code::Entity::find()
            .filter(recovery_code::Column::UserId.eq(user))
            .filter(recovery_code::Column::UsedAt.is_null())
            .count(self.db())
            .await?;
        Ok(usize::try_from(left).unwrap_or(usize::MAX))
    }

    /// After a first factor: a session, or a ticket for the second factor when the user has
    /// one (a password asks for any second factor; an email link asks for the authenticator
    /// app when the user turned one on, so a mailbox alone does not get past it).
    pub(crate) async fn after_first_factor(
        &self,
        user: User,
        proof: Proof,
        return_to: Option<String>,
        client: &ClientInfo,
    ) -> Result<SignInStep> {
        let methods = self.second_factors(user.id).await?;
        let needs_second = match proof.method {
            "password" => methods.totp || methods.passkey,
            _ => methods.totp,
        };
        if !needs_second {
            let signed_in = self.complete_sign_in(user, proof, client).await?;
            return Ok(SignInStep::Done {
                signed_in: Box::new(signed_in),
                return_to,
            });
        }
        let ticket = random_token::<24>();
        self.store()
            .put_json(
                &ticket_key(&ticket),
                &Ticket {
                    user_id: user.id,
                    method: proof.method.to_owned(),
                    amr: proof.amr,
                    return_to,
                },
                TICKET_TTL,
            )
            .await?;
        Ok(SignInStep::SecondFactor { ticket, methods })
    }

    /// Which second factors the ticket's user can use (for the page), or an expired error.
    pub async fn second_factor_ticket(&self, ticket: &str) -> Result<SecondFactors> {
        let pending: Ticket = self
            .store()
            .get_json(&ticket_key(ticket))
            .await?
            .ok_or_else(ticket_expired)?;
        self.second_factors(pending.user_id).await
    }

    /// Finishes a sign-in with an authenticator-app code or a recovery code.
    pub async fn finish_second_factor_code(
        &self,
        ticket: &str,
        code: &str,
        client: &ClientInfo,
    ) -> Result<(SignedIn, Option<String>)> {
        self.count_against(CREDENTIAL_CHECKS_PER_IP, client.ip_subject())
            .await?;
        let key = ticket_key(ticket);
        let pending: Ticket = self
            .store()
            .get_json(&key)
            .await?
            .ok_or_else(ticket_expired)?;
        let user = crate::user::find(self.db(), pending.user_id)
            .await?
            .ok_or_else(|| crate::user::not_found(pending.user_id))?;
        self.check_not_locked(user.id).await?;
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let factor = if digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit()) {
            self.check_totp(&user, &digits).await?.then_some("otp")
        } else {
            self.spend_recovery_code(user.id, code, client)
                .await?
                .then_some("rec")
        };
        let Some(factor) = factor else {
            let attempts = self
                .store()
                .hit(&format!("{key}:attempts"), TICKET_TTL)
                .await?;
            if attempts.count >= TICKET_ATTEMPTS {
                self.store().delete(&key).await?;
            }
            self.record_sign_in_failure(Some(&user), "second_factor", "wrong_code", client)
                .await?;
            return Err(invalid_second_factor());
        };
        let pending: Ticket = self
            .store()
            .take_json(&key)
            .await?
            .ok_or_else(ticket_expired)?;
        let mut amr = pending.amr;
        amr.extend([factor.to_owned(), "mfa".to_owned()]);
        let proof = Proof {
            method: "second_factor",
            amr,
            acr: acr::MULTI_FACTOR,
        };
        let signed_in = self.complete_sign_in(user, proof, client).await?;
        Ok((signed_in, pending.return_to))
    }

    /// Finishes a password sign-in with one of the user's passkeys.
    pub async fn finish_second_factor_passkey(
        &self,
        ticket: &str,
        ceremony: &str,
        credential: &serde_json::Value,
        client: &ClientInfo,
    ) -> Result<(SignedIn, Option<String>)> {
        let key = ticket_key(ticket);
        let pending: Ticket = self
            .store()
            .get_json(&key)
            .await?
            .ok_or_else(ticket_expired)?;
        let (user, passkey) = self.verify_passkey(ceremony, credential, client).await?;
        if user.id != pending.user_id {
            return Err(Error::new(
                ErrorCode::PasskeyUnknown,
                "this passkey belongs to another account",
            ));
        }
        let pending: Ticket = self
            .store()
            .take_json(&key)
            .await?
            .ok_or_else(ticket_expired)?;
        let mut amr = pending.amr;
        amr.extend(passkey.amr.into_iter().filter(|a| a != "mfa"));
        amr.push("mfa".to_owned());
        let proof = Proof {
            method: "second_factor",
            amr,
            acr: acr::MULTI_FACTOR,
        };
        let signed_in = self.complete_sign_in(user, proof, client).await?;
        Ok((signed_in, pending.return_to))
    }

    /// Starts (or restarts) authenticator-app enrolment with a fresh seed.
    pub async fn start_totp_enrolment(&self, user: &User) -> Result<TotpEnrolment> {
        let seed = random_bytes::<20>().to_vec();
        let account = user.email.clone().unwrap_or_else(|| user.id.to_string());
        let totp = totp_for(seed.clone(), &account)?;
        let encrypted = self
            .master_key()
            .encrypt(TOTP_CONTEXT, &seed)
            .map_err(Error::internal)?;
        let now = self.now();
        let existing = totp_secret::Entity::find_by_id(user.id)
            .one(self.db())
            .await?;
        if existing.is_some_and(|t| t.confirmed_at.is_some()) {
            return Err(Error::new(
                ErrorCode::TotpAlreadyEnrolled,
                "an authenticator app is already set up; remove it first",
            ));
        }
        totp_secret::Entity::insert(totp_secret::ActiveModel {
            user_id: Set(user.id),
            secret_encrypted: Set(encrypted),
            confirmed_at: Set(None),
            last_used_step: Set(None),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(totp_secret::Column::UserId)
                .update_columns([
                    totp_secret::Column::SecretEncrypted,
                    totp_secret::Column::CreatedAt,
                ])
                .to_owned(),
        )
        .exec(self.db())
        .await?;
        let uri = totp
            .to_url()
            .map_err(|e| Error::internal(format!("{e:?}")))?;
        let qr_svg = qrcode::QrCode::new(uri.as_bytes())
            .map_err(Error::internal)?
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .build();
        Ok(TotpEnrolment {
            uri,
            qr_svg,
            secret_base32: totp.secret().to_base32(),
        })
    }

    /// Confirms enrolment with a first code; returns a fresh set of recovery codes when the
    /// user had none.
    pub async fn confirm_totp(
        &self,
        user: &User,
        code: &str,
        client: &ClientInfo,
    ) -> Result<Option<Vec<String>>> {
        self.count_against(CREDENTIAL_CHECKS_PER_IP, client.ip_subject())
            .await?;
        totp_secret::Entity::find_by_id(user.id)
            .one(self.db())
            .await?
            .filter(|t| t.confirmed_at.is_none())
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::TotpNotEnrolled,
                    "start setting up the authenticator app again",
                )
            })?;
        if !self.check_totp(user, code.trim()).await? {
            return Err(invalid_second_factor());
        }
        let now = self.now();
        totp_secret::Entity::update_many()
            .col_expr(totp_secret::Column::ConfirmedAt, Expr::value(now))
            .filter(totp_secret::Column::UserId.eq(user.id))
            .exec(self.db())
            .await?;
        audit::record(
            self.db(),
            now,
            Entry {
                actor: &client.actor(Some(user.id)),
                org: None,
                action: AuditAction::TotpEnrolled,
                target: Target::new("user", user.id),
                data: json!({}),
            },
        )
        .await?;
        if self.recovery_codes_left(user.id).await? > 0 {
            return Ok(None);
        }
        Ok(Some(self.generate_recovery_codes(user.id, client).await?))
    }

    /// Removes the authenticator app.
    pub async fn remove_totp(&self, user: UserId, client: &ClientInfo) -> Result<()> {
        totp_secret::Entity::delete_many()
            .filter(totp_secret::Column::UserId.eq(user))
            .exec(self.db())
            .await?;
        audit::record(
            self.db(),
            self.now(),
            Entry {
                actor: &client.actor(Some(user)),
                org: None,
                action: AuditAction::TotpRemoved,
                target: Target::new("user", user),
                data: json!({}),
            },
        )
        .await?;
        Ok(())
    }

    /// Checks a code against the user's seed (pending or confirmed), accepting each time step
    /// once: a code seen before, or older than the last one used, fails.
    async fn check_totp(&self, user: &User, code: &str) -> Result<bool> {
        let Some(row) = totp_secret::Entity::find_by_id(user.id)
            .one(self.db())
            .await?
        else {
            return Ok(false);
        };
        let seed = self
            .master_key()
            .decrypt(TOTP_CONTEXT, &row.secret_encrypted)
            .map_err(Error::internal)?;
        let account = user.email.clone().unwrap_or_default();
        let totp = totp_for(seed, &account)?;
        let now = u64::try_from(self.now().timestamp()).unwrap_or_default();
        let Some(step) = totp.check(code, now) else {
            return Ok(false);
        };
        let step = i64::try_from(step).map_err(Error::internal)?;
        // Record the step only if it is newer than the last one: one winner under races.
        let updated = totp_secret::Entity::update_many()
            .col_expr(totp_secret::Column::LastUsedStep, Expr::value(step))
            .filter(totp_secret::Column::UserId.eq(user.id))
            .filter(
                totp_secret::Column::LastUsedStep
                    .is_null()
                    .or(totp_secret::Column::LastUsedStep.lt(step)),
            )
            .exec(self.db())
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Replaces the user's recovery codes with ten new ones, shown once.
    pub async fn generate_recovery_codes(
        &self,
        user: UserId,
        client: &ClientInfo,
    ) -> Result<Vec<String>> {
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let now = self.now();
        let txn = self.begin_write().await?;
        recovery_code::Entity::delete_many()
            .filter(recovery_code::Column::UserId.eq(user))
            .exec(&txn)
            .await?;
        recovery_code::Entity::insert_many(codes.iter().map(|code| recovery_code::ActiveModel {
            id: Set(RecoveryCodeId::new()),
            user_id: Set(user),
            code_hash: Set(hash_secret(code)),
            used_at: Set(None),
            created_at: Set(now),
        }))
        .exec(&txn)
        .await?;
        audit::record(
            &txn,
            now,
            Entry {
                actor: &client.actor(Some(user)),
                org: None,
                action: AuditAction::RecoveryCodesGenerated,
                target: Target::new("user", user),
                data: json!({ "count": RECOVERY_CODES }),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(codes)
    }

    /// Spends one recovery code; `false` when it is unknown or already used.
    async fn spend_recovery_code(
        &self,
        user: UserId,
        code: &str,
        client: &ClientInfo,
    ) -> Result<bool> {
        let hash = hash_secret(&normalize_recovery_code(code));
        let now = self.now();
        let spent = recovery_code::Entity::update_many()
            .col_expr(recovery_code::Column::UsedAt, Expr::value(now))
            .filter(recovery_code::Column::UserId.eq(user))
            .filter(recovery_code::Column::CodeHash.eq(hash))
            .filter(recovery_code::Column::UsedAt.is_null())
            .exec(self.db())
            .await?;
        if spent.rows_affected != 1 {
            return Ok(false);
        }
        let remaining = self.recovery_codes_left(user).await?;
        audit::record(
            self.db(),
            now,
            Entry {
                actor: &client.actor(Some(user)),
                org: None,
                action: AuditAction::RecoveryCodeUsed,
                target: Target::new("user", user),
                data: json!({ "remaining": remaining }),
            },
        )
        .await?;
        Ok(true)
    }
}

fn ticket_expired() -> Error {
    Error::new(
        ErrorCode::CeremonyExpired,
        "this sign-in step expired; start again",
    )
}
