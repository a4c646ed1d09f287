//! Passwords (off unless `TESSERA_PASSWORD_LOGIN` is on): Argon2id at OWASP's parameters
//! (19 MiB, 2 passes, 1 lane; configurable), rules from NIST SP 800-63B-4 (length, not
//! composition; a blocklist of common choices), hashes re-encoded on sign-in when the
//! parameters change, and reset through an email link followed by the account page.

use argon2::{Algorithm, Argon2, Block, Params, Version};
use argon2::{PasswordHash, PasswordHasher};
use entities::UserId;
use entities::password_credential;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::OnConflict};
use serde_json::json;

use super::limits::CREDENTIAL_CHECKS_PER_IP;
use super::second_factor::SignInStep;
use super::{ClientInfo, Proof, acr};
use crate::Broker;
use crate::audit::{self, AuditAction, Entry, Target};
use crate::crypto::random_bytes;
use crate::error::{Error, ErrorCode, Result};

/// Shortest accepted password: NIST SP 800-63B-4 asks for 15 characters when a password may be
/// the only factor, which it is here for users without an authenticator app or passkey.
pub const MIN_LENGTH: usize = 15;
/// Longest accepted password (NIST: allow at least 64).
pub const MAX_LENGTH: usize = 256;

/// Common passwords refused outright (the long ones people actually pick; shorter ones fail
/// the length rule anyway).
const BLOCKLIST: &[&str] = &[
    "123456789012345",
    "1234567890123456",
    "qwertyuiopasdfgh",
    "passwordpassword",
    "password1234567",
    "password12345678",
    "iloveyouiloveyou",
    "correcthorsebatterystaple",
    "aaaaaaaaaaaaaaa",
    "qwertyqwertyqwerty",
    "letmeinletmeinletmein",
    "welcome123456789",
];

/// Argon2id cost settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    /// Memory in KiB (OWASP: 19456).
    pub memory_kib: u32,
    /// Passes (OWASP: 2).
    pub iterations: u32,
    /// Lanes (OWASP: 1).
    pub parallelism: u32,
}

impl Default for PasswordParams {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl PasswordParams {
    fn hasher(&self) -> Result<Argon2<'static>> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| Error::internal(format!("argon2 parameters: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Hashes `password` into a PHC string (blocking: run off the async executor).
    pub fn hash(&self, password: &str) -> Result<String> {
        let salt = random_bytes::<16>();
        Ok(self
            .hasher()?
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map_err(|e| Error::internal(format!("argon2: {e}")))?
            .to_string())
    }

    /// Whether `password` matches `phc` (blocking), and whether `phc` used other parameters
    /// than these (so it should be re-encoded). Argon2's working memory is `memory`, grown as
    /// needed and kept by the caller: a hashing thread reuses one buffer instead of allocating
    /// (and having the kernel zero) `m_cost` KiB for every attempt.
    pub fn verify(
        &self,
        phc: &str,
        password: &str,
        memory: &mut Vec<Block>,
    ) -> Result<(bool, bool)> {
        let unreadable =
            |e: &dyn std::fmt::Display| Error::internal(format!("stored password hash: {e}"));
        let parsed = PasswordHash::new(phc).map_err(|e| unreadable(&e))?;
        let params = Params::try_from(&parsed).map_err(|e| unreadable(&e))?;
        let algorithm =
            Algorithm::try_from(parsed.algorithm.as_str()).map_err(|e| unreadable(&e))?;
        let version = match parsed.version {
            Some(v) => Version::try_from(v).map_err(|e| unreadable(&e))?,
            None => Version::default(),
        };
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
            return Err(unreadable(&"no salt or no hash"));
        };
        let current = algorithm == Algorithm::Argon2id
            && params.m_cost() == self.memory_kib
            && params.t_cost() == self.iterations
            && params.p_cost() == self.parallelism;
        let expected = expected.as_bytes();
        let mut output = vec![0u8; expected.len()];
        memory.resize(params.block_count(), Block::new());
        Argon2::new(algorithm, version, params)
            .hash_password_into_with_memory(password.as_bytes(), salt, &mut output, &mut memory[..])
            .map_err(|e| unreadable(&e))?;
        Ok((constant_time_eq(&output, expected), !current))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks a new password against the rules.
pub fn check_rules(password: &str, email: Option<&str>) -> Result<()> {
    let weak = |message: String| Error::invalid(ErrorCode::WeakPassword, "password", message);
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(weak(format!(
            "use at least {MIN_LENGTH} characters; a few unrelated words make a good one"
        )));
    }
    if length > MAX_LENGTH {
        return Err(weak(format!("use at most {MAX_LENGTH} characters")));
    }
    let lower = password.to_lowercase();
    if BLOCKLIST.contains(&lower.as_str()) || lower.chars().all(|c| lower.starts_with(c)) {
        return Err(weak("this password is too common; choose another".into()));
    }
    if let Some(local) = email.and_then(|e| e.split('@').next())
        && local.len() >= 4
        && lower.contains(local)
    {
        return Err(weak(
            "the password must not contain your email address".into(),
        ));
    }
    Ok(())
}

impl Broker {
    /// Runs one Argon2 computation on the hashing threads (one per core; see
    /// [`hashing`](super::hashing)), with the configured parameters and the thread's memory.
    async fn argon2<T: Send + 'static>(
        &self,
        work: impl FnOnce(PasswordParams, &mut Vec<Block>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let settings = self.login_settings();
        let params = settings.password_params;
        settings
            .hashing
            .run(move |memory| work(params, memory))
            .await?
    }

    /// A hash to verify against when the account has no password, so a wrong email costs the
    /// same time as a wrong password: one Argon2 run either way. Made once per process.
    async fn dummy_hash(&self) -> Result<String> {
        self.login_settings()
            .dummy_hash
            .get_or_try_init(|| self.argon2(|params, _| params.hash("tessera-timing-equalizer")))
            .await
            .cloned()
    }

    fn require_password_login(&self) -> Result<()> {
        if self.login_settings().password_login {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::PasswordLoginDisabled,
                "passwords are turned off on this instance",
            ))
        }
    }

    /// Whether the user has a password.
    pub async fn has_password(&self, user: UserId) -> Result<bool> {
        Ok(password_credential::Entity::find_by_id(user)
            .one(self.db())
            .await?
            .is_some())
    }

    /// Sets or replaces the user's password.
    pub async fn set_password(
        &self,
        user: &crate::user::User,
        password: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        self.require_password_login()?;
        check_rules(password, user.email.as_deref())?;
        let owned = password.to_owned();
        let hash = self.argon2(move |params, _| params.hash(&owned)).await?;
        let now = self.now();
        let txn = self.begin_write().await?;
        password_credential::Entity::insert(password_credential::ActiveModel {
            user_id: Set(user.id),
            hash: Set(hash),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(password_credential::Column::UserId)
                .update_columns([
                    password_credential::Column::Hash,
                    password_credential::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(&txn)
        .await?;
        audit::record(
            &txn,
            now,
            Entry {
                actor: &client.actor(Some(user.id)),
                org: None,
                action: AuditAction::PasswordSet,
                target: Target::new("user", user.id),
                data: json!({}),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Removes the user's password.
    pub async fn remove_password(&self, user: UserId, client: &ClientInfo) -> Result<()> {
        let txn = self.begin_write().await?;
        password_credential::Entity::delete_many()
            .filter(password_credential::Column::UserId.eq(user))
            .exec(&txn)
            .await?;
        audit::record(
            &txn,
            self.now(),
            Entry {
                actor: &client.actor(Some(user)),
                org: None,
                action: AuditAction::PasswordRemoved,
                target: Target::new("user", user),
                data: json!({}),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Checks an email and password. Wrong email and wrong password fail alike, in the same
    /// time; repeated failures soft-lock the account.
    pub async fn sign_in_with_password(
        &self,
        email: &str,
        password: &str,
        return_to: Option<String>,
        client: &ClientInfo,
    ) -> Result<SignInStep> {
        self.require_password_login()?;
        self.count_against(CREDENTIAL_CHECKS_PER_IP, client.ip_subject())
            .await?;
        let failed = || Error::new(ErrorCode::SignInFailed, "the email or password is wrong");
        let email = crate::validate::email("email", email).ok();
        let user = match &email {
            Some(email) => crate::user::find_by_email(self.db(), email).await?,
            None => None,
        };
        if let Some(user) = &user {
            self.check_not_locked(user.id).await?;
        }
        let stored = match &user {
            Some(user) => password_credential::Entity::find_by_id(user.id)
                .one(self.db())
                .await?
                .map(|c| c.hash),
            None => None,
        };
        let has_password = stored.is_some();
        let phc = match stored {
            Some(phc) => phc,
            None => self.dummy_hash().await?,
        };
        let attempt = password.to_owned();
        let (matches, stale) = self
            .argon2(move |params, memory| params.verify(&phc, &attempt, memory))
            .await?;
        let user = match user {
            Some(user) if has_password && matches => user,
            other => {
                self.record_sign_in_failure(
                    other.as_ref(),
                    "password",
                    "wrong_email_or_password",
                    client,
                )
                .await?;
                return Err(failed());
            }
        };
        if stale {
            // Parameters changed since this hash was made: re-encode with the current ones.
            let owned = password.to_owned();
            let hash = self.argon2(move |params, _| params.hash(&owned)).await?;
            password_credential::Entity::update_many()
                .col_expr(
                    password_credential::Column::Hash,
                    sea_orm::sea_query::Expr::value(hash),
                )
                .filter(password_credential::Column::UserId.eq(user.id))
                .exec(self.db())
                .await?;
        }
        self.after_first_factor(
            user,
            Proof {
                method: "password",
                amr: vec!["pwd".to_owned()],
                acr: acr::SINGLE_FACTOR,
            },
            return_to,
            client,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use argon2::{PasswordHash, PasswordVerifier as _};

    use super::PasswordParams;

    /// Cheap parameters, so the test is quick in a debug build.
    const CHEAP: PasswordParams = PasswordParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn verification_in_reused_memory_agrees_with_argon2() {
        let mut memory = Vec::new();
        let bigger = PasswordParams {
            memory_kib: 256,
            ..CHEAP
        };
        for params in [CHEAP, bigger, CHEAP] {
            let phc = params.hash("right password").unwrap();
            let reference = PasswordHash::new(&phc).unwrap();
            for attempt in ["right password", "wrong password", ""] {
                let ours = params.verify(&phc, attempt, &mut memory).unwrap();
                let theirs = argon2::Argon2::default()
                    .verify_password(attempt.as_bytes(), &reference)
                    .is_ok();
                assert_eq!(ours, (theirs, false), "{attempt} with {params:?}");
            }
        }
        // A hash made with other parameters still verifies, and asks to be re-encoded.
        let old = CHEAP.hash("right password").unwrap();
        let current = PasswordParams {
            iterations: 2,
            ..CHEAP
        };
        assert_eq!(
            current.verify(&old, "right password", &mut memory).unwrap(),
            (true, true)
        );
        assert!(current.verify("not a hash", "x", &mut memory).is_err());
    }
}
