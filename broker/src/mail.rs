//! Outgoing mail: sign-in links and codes. Over SMTP with `lettre` when `TESSERA_SMTP_URL` is
//! set, otherwise written to the log (the zero-config default, for development).

use std::sync::Arc;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::error::{Error, ErrorCode, Result};

/// One message to one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body (always sent).
    pub text: String,
    /// HTML body (sent as the alternative part).
    pub html: String,
}

/// Delivers mail.
#[async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug {
    /// Sends one message; an error means it was not accepted for delivery.
    async fn send(&self, mail: Mail) -> Result<()>;
}

/// Writes every message to the log instead of sending it (zero-config development).
#[derive(Debug, Default)]
pub struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    async fn send(&self, mail: Mail) -> Result<()> {
        tracing::info!(
            to = %mail.to,
            subject = %mail.subject,
            "mail (TESSERA_SMTP_URL is not set, so it is printed here):\n{}",
            mail.text
        );
        Ok(())
    }
}

/// Sends over SMTP (`smtp://` with optional STARTTLS via `?tls=required`, or `smtps://`).
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds the SMTP password: never print it.
        f.debug_struct("SmtpMailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for `url` sending as `from` (`Tessera <no-reply@example.com>`).
    pub fn new(url: &str, from: &str) -> Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| Error::internal(format!("TESSERA_SMTP_URL: {e}")))?
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| Error::internal(format!("TESSERA_MAIL_FROM: {e}")))?;
        Ok(Self { transport, from })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: Mail) -> Result<()> {
        let to = mail
            .to
            .parse::<Mailbox>()
            .map_err(|e| Error::new(ErrorCode::InvalidEmail, e.to_string()).with_field("email"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .multipart(MultiPart::alternative_plain_html(mail.text, mail.html))
            .map_err(Error::internal)?;
        self.transport
            .send(message)
            .await
            .map_err(|e| Error::new(ErrorCode::ServiceUnavailable, format!("SMTP: {e}")))?;
        Ok(())
    }
}

/// Whether `from` is a usable sender (`Name <address>` or a bare address).
pub fn is_valid_sender(from: &str) -> bool {
    from.parse::<Mailbox>().is_ok()
}

/// Sends in the background so the answer to the browser does not wait on (or reveal anything
/// through) the mail server's speed; failures are logged.
pub(crate) fn send_later(mailer: Arc<dyn Mailer>, mail: Mail) {
    tokio::spawn(async move {
        let to = mail.to.clone();
        if let Err(e) = mailer.send(mail).await {
            tracing::warn!(error = %e, %to, "could not send mail");
        }
    });
}
