//! Sending with SES v2 `SendEmail`, Simple content (SES builds the MIME
//! multipart/alternative message from the subject, HTML and text).

use aws_sdk_sesv2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sesv2::Client;

use crate::job::EmailAddress;
use crate::render::RenderedEmail;

#[derive(Debug, thiserror::Error)]
#[error("SES SendEmail failed: {0}")]
pub struct SendError(pub String);

#[derive(Clone)]
pub struct SesSender {
    client: Client,
    from: String,
}

impl SesSender {
    pub fn new(client: Client, from: impl Into<String>) -> Self {
        Self {
            client,
            from: from.into(),
        }
    }

    pub fn from_address(&self) -> &str {
        &self.from
    }

    /// Sends one email; returns SES's message id.
    pub async fn send(
        &self,
        to: &EmailAddress,
        email: &RenderedEmail,
    ) -> Result<String, SendError> {
        let content = |data: &str| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|e| SendError(format!("building content: {e}")))
        };
        let message = Message::builder()
            .subject(content(&email.subject)?)
            .body(
                Body::builder()
                    .html(content(&email.html)?)
                    .text(content(&email.text)?)
                    .build(),
            )
            .build();
        let out = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(to.as_str()).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| SendError(describe(&e)))?;
        Ok(out.message_id().unwrap_or_default().to_owned())
    }
}

/// `Code: message` for errors SES answered; the full chain for transport
/// failures (timeouts, connection refused), where it is the useful part.
fn describe<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e {
        SdkError::ServiceError(se) => {
            let meta = se.err();
            format!(
                "{}: {}",
                meta.code().unwrap_or("UnknownError"),
                meta.message().unwrap_or("(no message)")
            )
        }
        other => DisplayErrorContext(other).to_string(),
    }
}
