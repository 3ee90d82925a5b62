//! Outgoing mail behind the [`Mailer`] trait: SMTP (lettre) when
//! `SMTP_HOST` is configured, otherwise the development outbox table that
//! `backend outbox` prints.
//!
//! Bodies carry single-use tokens, so neither implementation logs a body.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::config::{MailConfig, SmtpTls};
use crate::db::{self, Db};
use crate::domain::Email;

pub struct OutgoingMail {
    pub to: Email,
    pub subject: String,
    pub body: String,
}

pub type MailFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'a>>;

pub trait Mailer: Send + Sync {
    /// Hands the mail over for delivery. Returns once it is safely queued
    /// (SMTP: delivery continues in the background so the answer's timing
    /// does not depend on the mail server; outbox: stored).
    fn send<'a>(&'a self, mail: OutgoingMail) -> MailFuture<'a>;
}

/// Picks the mailer the configuration asks for.
pub fn from_config(config: &MailConfig, db: Db) -> anyhow::Result<Arc<dyn Mailer>> {
    Ok(match &config.smtp {
        Some(_) => Arc::new(SmtpMailer::new(config)?),
        None => Arc::new(OutboxMailer { db }),
    })
}

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    pub fn new(config: &MailConfig) -> anyhow::Result<Self> {
        let smtp = config.smtp.as_ref().context("SMTP is not configured")?;
        let mut builder = match smtp.tls {
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)?,
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)?,
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        }
        .port(smtp.port)
        .timeout(Some(Duration::from_secs(15)));
        if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_owned(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from: config.from.parse().context("MAIL_FROM")?,
        })
    }
}

impl Mailer for SmtpMailer {
    fn send<'a>(&'a self, mail: OutgoingMail) -> MailFuture<'a> {
        Box::pin(async move {
            let message = Message::builder()
                .from(self.from.clone())
                .to(mail.to.as_str().parse().context("recipient address")?)
                .subject(mail.subject)
                .body(mail.body)
                .context("building the mail")?;
            let transport = self.transport.clone();
            // Keeps the request's span (and id) on the delivery log lines.
            let span = tracing::Span::current();
            let delivery = async move {
                let mut delay = Duration::from_secs(1);
                for attempt in 1..=3 {
                    match transport.send(message.clone()).await {
                        Ok(_) => {
                            tracing::info!(attempt, "mail delivered to the SMTP server");
                            return;
                        }
                        Err(error) => {
                            tracing::warn!(attempt, error = %error, "SMTP delivery failed");
                            tokio::time::sleep(delay).await;
                            delay *= 4;
                        }
                    }
                }
                tracing::error!("giving up on a mail after 3 SMTP attempts");
            };
            tokio::spawn(tracing::Instrument::instrument(delivery, span));
            Ok(())
        })
    }
}

/// Development mailer: stores mail in `dev_outbox`.
pub struct OutboxMailer {
    db: Db,
}

impl OutboxMailer {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl Mailer for OutboxMailer {
    fn send<'a>(&'a self, mail: OutgoingMail) -> MailFuture<'a> {
        Box::pin(async move {
            let id = db::new_id();
            let mut tx = self.db.begin_write().await?;
            db::outbox::insert(
                &mut tx,
                &id,
                mail.to.as_str(),
                &mail.subject,
                &mail.body,
                crate::clock::now_ms(),
            )
            .await?;
            tx.commit().await?;
            // Neither the address nor the body (it holds the token) is logged.
            tracing::info!(
                outbox_id = %id,
                subject = %mail.subject,
                "mail stored in the development outbox; read it with `cargo run -p backend -- outbox`"
            );
            Ok(())
        })
    }
}
