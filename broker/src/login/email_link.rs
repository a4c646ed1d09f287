//! Email links and codes: one message carries a single-use link and a six-digit code, valid 15
//! minutes (configurable). They sign in an existing account or create one (when sign-up is
//! open), and prove the address.
//!
//! The link is bound to the browser that asked for it (a random flow secret in a cookie, stored
//! here only as a hash). Opened in that browser, it resumes what the user was doing (the app's
//! authorization request). Opened anywhere else it still signs in, but only to the account page
//! there: the app's request lives in the first browser, which can finish with the code instead.
//! The answer to "send me a link" is the same whether or not the address has an account, and
//! the mail goes out in the background so timing tells nothing either.

use entities::user;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::limits::{
    CODE_ATTEMPTS, CREDENTIAL_CHECKS_PER_IP, EMAILS_PER_ADDRESS, EMAILS_PER_IP, address_subject,
};
use super::second_factor::SignInStep;
use super::{ClientInfo, Proof, acr};
use crate::Broker;
use crate::audit::{self, AuditAction, Entry, Target};
use crate::crypto::{random_bytes, random_token, secret_digest};
use crate::error::{Error, ErrorCode, Result};
use crate::mail::{Mail, send_later};
use crate::store::EphemeralStoreExt as _;

/// Every link token starts with this.
const TOKEN_PREFIX: &str = "tml_";

/// A request for a sign-in email.
#[derive(Debug, Clone)]
pub struct EmailLinkRequest {
    /// The address typed by the user.
    pub email: String,
    /// Where to continue after signing in (a path on Tessera, already checked by the caller).
    pub return_to: Option<String>,
    /// The browser's flow secret (from a cookie the caller sets).
    pub flow: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingLink {
    email: String,
    flow_hash: String,
    code_hash: String,
    return_to: Option<String>,
}

/// What a redeemed link or code leads to.
#[derive(Debug)]
pub struct LinkSignIn {
    /// Signed in, or on to the second factor. Either way the saved `return_to` comes along
    /// only when the browser is the one that asked (else the account page is next).
    pub step: SignInStep,
    /// Whether this created the account.
    pub new_account: bool,
}

fn link_key(token: &str) -> String {
    format!("email_link:{}", secret_digest(token))
}

fn flow_key(flow: &str) -> String {
    format!("email_flow:{}", secret_digest(flow))
}

/// Whether `token` could be one of ours (cheap check before touching the store).
fn well_formed(token: &str) -> bool {
    token.starts_with(TOKEN_PREFIX) && token.len() <= 100
}

fn invalid_link() -> Error {
    Error::new(
        ErrorCode::EmailLinkInvalid,
        "this sign-in link is unknown, already used or expired; ask for a new one",
    )
}

fn invalid_code() -> Error {
    Error::invalid(
        ErrorCode::EmailCodeInvalid,
        "code",
        "that code is not right, or it expired; check the latest email or ask for a new one",
    )
}

/// A six-digit code, uniform over 000000-999999.
fn six_digits() -> String {
    let n = u64::from_le_bytes(random_bytes::<8>()) % 1_000_000;
    format!("{n:06}")
}

impl Broker {
    /// Sends a sign-in (or sign-up) email, unless limits say no. The result does not depend on
    /// whether the address has an account.
    pub async fn request_email_link(
        &self,
        request: EmailLinkRequest,
        client: &ClientInfo,
    ) -> Result<()> {
        let email = crate::validate::email("email", &request.email)?;
        self.count_against(EMAILS_PER_IP, client.ip_subject())
            .await?;
        self.count_against(EMAILS_PER_ADDRESS, &address_subject(&email))
            .await?;
        let existing = crate::user::find_by_email(self.db(), &email).await?;
        let settings = self.login_settings();
        if existing.is_none() && !settings.signup {
            // Same answer as for a known address: nothing tells the two apart.
            return Ok(());
        }
        let token = format!("{TOKEN_PREFIX}{}", random_token::<32>());
        let code = six_digits();
        let pending = PendingLink {
            email: email.clone(),
            flow_hash: secret_digest(&request.flow),
            code_hash: secret_digest(&code),
            return_to: request.return_to,
        };
        let ttl = settings.email_link_ttl;
        let store = self.store();
        store.put_json(&link_key(&token), &pending, ttl).await?;
        // The flow remembers its latest link, so the code typed in this browser finds it.
        store
            .put_json(&flow_key(&request.flow), &link_key(&token), ttl)
            .await?;
        audit::record(
            self.db(),
            self.now(),
            Entry {
                actor: &client.actor(None),
                org: None,
                action: AuditAction::EmailLinkSent,
                target: Target::new("email", address_subject(&email)),
                data: json!({ "purpose": if existing.is_some() { "sign_in" } else { "sign_up" } }),
            },
        )
        .await?;
        let link = settings.url_of(&format!("/login/link?token={token}"));
        let minutes = ttl.as_secs() / 60;
        let (subject, intro) = if existing.is_some() {
            ("Your Tessera sign-in link", "Sign in to Tessera")
        } else {
            (
                "Finish creating your Tessera account",
                "Create your Tessera account",
            )
        };
        let text = format!(
            "{intro}: open this link in the browser where you asked for it.\n\n{link}\n\n\
             Or enter this code there: {code}\n\n\
             The link and code work once, for {minutes} minutes. If you did not ask for this, \
             ignore this email.\n"
        );
        let html = format!(
            "<p>{intro}: open this link in the browser where you asked for it.</p>\
             <p><a href=\"{link}\">{intro}</a></p>\
             <p>Or enter this code there: <strong>{code}</strong></p>\
             <p>The link and code work once, for {minutes} minutes. If you did not ask for \
             this, ignore this email.</p>"
        );
        send_later(
            self.mailer(),
            Mail {
                to: email,
                subject: subject.to_owned(),
                text,
                html,
            },
        );
        Ok(())
    }

    /// The address a link was sent to, without using it up (for the confirmation page, which
    /// keeps mail scanners that open links from spending them).
    pub async fn peek_email_link(&self, token: &str) -> Result<String> {
        if !well_formed(token) {
            return Err(invalid_link());
        }
        let pending: Option<PendingLink> = self.store().get_json(&link_key(token)).await?;
        pending.map(|p| p.email).ok_or_else(invalid_link)
    }

    /// Redeems a link (once). `flow` is the browser's flow cookie, if it has one.
    pub async fn redeem_email_link(
        &self,
        token: &str,
        flow: Option<&str>,
        client: &ClientInfo,
    ) -> Result<LinkSignIn> {
        if !well_formed(token) {
            return Err(invalid_link());
        }
        let Some(pending) = self
            .store()
            .take_json::<PendingLink>(&link_key(token))
            .await?
        else {
            self.record_sign_in_failure(None, "email_link", "invalid_link", client)
                .await?;
            return Err(invalid_link());
        };
        let same_browser = flow.is_some_and(|f| secret_digest(f) == pending.flow_hash);
        self.finish_email_sign_in(pending, same_browser, client)
            .await
    }

    /// Redeems the code typed in the browser that asked for it.
    pub async fn redeem_email_code(
        &self,
        flow: &str,
        code: &str,
        client: &ClientInfo,
    ) -> Result<LinkSignIn> {
        self.count_against(CREDENTIAL_CHECKS_PER_IP, client.ip_subject())
            .await?;
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let Some(key) = self.store().get_json::<String>(&flow_key(flow)).await? else {
            return Err(invalid_code());
        };
        let Some(pending) = self.store().get_json::<PendingLink>(&key).await? else {
            return Err(invalid_code());
        };
        if code.len() != 6 || secret_digest(&code) != pending.code_hash {
            let attempts = self
                .store()
                .hit(
                    &format!("{key}:attempts"),
                    self.login_settings().email_link_ttl,
                )
                .await?;
            if attempts.count >= CODE_ATTEMPTS {
                // Too many guesses: the code (and its link) are thrown away.
                self.store().delete(&key).await?;
            }
            let user = crate::user::find_by_email(self.db(), &pending.email).await?;
            self.record_sign_in_failure(user.as_ref(), "email_code", "wrong_code", client)
                .await?;
            return Err(invalid_code());
        }
        // Spend it; a racing link redemption may have won.
        let pending = self
            .store()
            .take_json::<PendingLink>(&key)
            .await?
            .ok_or_else(invalid_code)?;
        self.store().delete(&flow_key(flow)).await?;
        self.finish_email_sign_in(pending, true, client).await
    }

    async fn finish_email_sign_in(
        &self,
        pending: PendingLink,
        same_browser: bool,
        client: &ClientInfo,
    ) -> Result<LinkSignIn> {
        let txn = self.begin_write().await?;
        let now = self.now();
        let (found, new_account) =
            crate::user::find_or_create_by_email(&txn, now, &client.actor(None), &pending.email)
                .await?;
        if !found.email_verified {
            user::Entity::update_many()
                .col_expr(user::Column::EmailVerified, Expr::value(true))
                .col_expr(user::Column::UpdatedAt, Expr::value(now))
                .filter(user::Column::Id.eq(found.id))
                .exec(&txn)
                .await?;
            audit::record(
                &txn,
                now,
                Entry {
                    actor: &client.actor(Some(found.id)),
                    org: None,
                    action: AuditAction::EmailVerified,
                    target: Target::new("user", found.id),
                    data: json!({}),
                },
            )
            .await?;
        }
        txn.commit().await?;
        let user = crate::user::find(self.db(), found.id)
            .await?
            .ok_or_else(|| crate::user::not_found(found.id))?;
        let return_to = if same_browser {
            pending.return_to
        } else {
            None
        };
        let step = self
            .after_first_factor(
                user,
                Proof {
                    method: "email_link",
                    amr: vec!["email".to_owned()],
                    acr: acr::SINGLE_FACTOR,
                },
                return_to,
                client,
            )
            .await?;
        Ok(LinkSignIn { step, new_account })
    }
}
