//! The email job of CONTRACTS §6, parsed and validated once, so that the
//! renderer and the sender only ever see well-formed values.
//!
//! ```json
//! {"version":1,"id":"<uuid>","kind":"verify_email","to":"<email>",
//!  "data":{"link":"https://…/verify-email?token=…","expiresAt":"…"},"createdAt":"…"}
//! ```
//!
//! Anything that fails here is a [`MalformedJob`]: the same bytes will fail
//! the same way on every delivery, so the handler drops it instead of letting
//! SQS redeliver it five times into the DLQ.

use std::fmt;

use serde::Deserialize;

/// The only job version this mailer understands.
pub const JOB_VERSION: u64 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmailKind {
    VerifyEmail,
    PasswordReset,
    PasswordChanged,
    AccountExists,
}

impl EmailKind {
    pub const ALL: [EmailKind; 4] = [
        EmailKind::VerifyEmail,
        EmailKind::PasswordReset,
        EmailKind::PasswordChanged,
        EmailKind::AccountExists,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EmailKind::VerifyEmail => "verify_email",
            EmailKind::PasswordReset => "password_reset",
            EmailKind::PasswordChanged => "password_changed",
            EmailKind::AccountExists => "account_exists",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// Whether an email of this kind is pointless without a link.
    fn needs_link(self) -> bool {
        matches!(self, EmailKind::VerifyEmail | EmailKind::PasswordReset)
    }
}

impl fmt::Display for EmailKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An addr-spec (`local@domain`) as RFC 5321 allows it in a mailbox: the
/// local part is a dot-atom or a quoted string, the domain a hostname of
/// letters, digits and hyphens with at least two labels. Display names,
/// comments, IP literals and non-ASCII addresses are refused (SES does not
/// accept SMTPUTF8 addresses either).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.len() > 254 {
            return Err("longer than 254 characters");
        }
        let at = raw.rfind('@').ok_or("no @")?;
        let (local, domain) = (&raw[..at], &raw[at + 1..]);
        if local.is_empty() || local.len() > 64 {
            return Err("local part empty or longer than 64 characters");
        }
        let local_ok = if local.starts_with('"') {
            is_quoted_string(local)
        } else {
            is_dot_atom(local)
        };
        if !local_ok {
            return Err("malformed local part");
        }
        if !is_hostname(domain) {
            return Err("malformed domain");
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

fn is_dot_atom(s: &str) -> bool {
    s.split('.')
        .all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
}

/// `"…"` with printable ASCII inside; `\` escapes any printable character.
fn is_quoted_string(s: &str) -> bool {
    let Some(inner) = s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else {
        return false;
    };
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e) if (' '..='~').contains(&e) => {}
                _ => return false,
            },
            '"' => return false,
            c if (' '..='~').contains(&c) => {}
            _ => return false,
        }
    }
    true
}

fn is_hostname(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    s.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// A link to put in an email: an absolute `https://` or `http://` URL without
/// whitespace or control characters, so `javascript:` or `data:` URLs can
/// never reach an `href`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link(String);

impl Link {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let rest = raw
            .strip_prefix("https://")
            .or_else(|| raw.strip_prefix("http://"))
            .ok_or("not an absolute http(s) URL")?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err("no host");
        }
        if raw.len() > 2048 {
            return Err("longer than 2048 characters");
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("contains whitespace or control characters");
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A valid job, ready to render and send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailJob {
    pub id: String,
    pub kind: EmailKind,
    pub to: EmailAddress,
    pub link: Option<Link>,
    /// As the producer wrote it (RFC 3339); the renderer formats it.
    pub expires_at: Option<String>,
    pub created_at: Option<String>,
}

/// Why a job can never be sent. The message is safe to log: it names the
/// field, never echoes a whole body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MalformedJob(pub String);

fn malformed(msg: impl Into<String>) -> MalformedJob {
    MalformedJob(msg.into())
}

/// The wire shape. Every field is optional here so that a missing one gets a
/// precise reason instead of serde's generic message; unknown fields
/// anywhere are ignored (producers may add data).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireJob {
    version: Option<serde_json::Value>,
    id: Option<String>,
    kind: Option<String>,
    to: Option<String>,
    #[serde(default)]
    data: Option<WireData>,
    created_at: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct WireData {
    link: Option<String>,
    expires_at: Option<String>,
}

/// Longest id kept as (part of) a Redis key.
const MAX_ID_LEN: usize = 128;

impl EmailJob {
    /// Parses an SQS message body; `base_url`, when given, is the only origin
    /// links may point to.
    pub fn parse(body: &str, base_url: Option<&str>) -> Result<Self, MalformedJob> {
        // serde's messages can quote values (addresses): log only the category.
        let wire: WireJob = serde_json::from_str(body).map_err(|e| {
            let what = match e.classify() {
                serde_json::error::Category::Eof => "truncated JSON",
                serde_json::error::Category::Syntax => "invalid JSON",
                serde_json::error::Category::Data => "a field or the body has the wrong type",
                serde_json::error::Category::Io => "unreadable",
            };
            malformed(format!(
                "body is not a JSON job ({what} at line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        match wire.version.as_ref().and_then(|v| v.as_u64()) {
            Some(JOB_VERSION) => {}
            Some(other) => return Err(malformed(format!("unsupported version {other}"))),
            None => return Err(malformed("missing or non-integer version")),
        }
        let id = wire
            .id
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| malformed("missing id"))?;
        if id.len() > MAX_ID_LEN || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(malformed("id is too long or contains whitespace"));
        }
        let kind_raw = wire.kind.ok_or_else(|| malformed("missing kind"))?;
        let kind = EmailKind::parse(&kind_raw)
            .ok_or_else(|| malformed(format!("unknown kind {:?}", truncate(&kind_raw, 40))))?;
        let to_raw = wire.to.ok_or_else(|| malformed("missing to"))?;
        let to = EmailAddress::parse(to_raw.trim())
            .map_err(|reason| malformed(format!("invalid to address: {reason}")))?;
        let data = wire.data.unwrap_or_default();
        let link = data
            .link
            .filter(|l| !l.is_empty())
            .map(|l| {
                Link::parse(&l).map_err(|reason| malformed(format!("invalid data.link: {reason}")))
            })
            .transpose()?;
        if let (Some(link), Some(base)) = (&link, base_url) {
            if !is_under(link.as_str(), base) {
                return Err(malformed("data.link is not under PUBLIC_BASE_URL"));
            }
        }
        if link.is_none() && kind.needs_link() {
            return Err(malformed(format!("{kind} needs data.link")));
        }
        Ok(EmailJob {
            id,
            kind,
            to,
            link,
            expires_at: data.expires_at.filter(|s| !s.is_empty()),
            created_at: wire.created_at,
        })
    }
}

/// `link` is `base` itself or a path below it (not `base.evil.example`).
fn is_under(link: &str, base: &str) -> bool {
    let base = base.trim_end_matches('/');
    match link.strip_prefix(base) {
        Some(rest) => rest.is_empty() || rest.starts_with(['/', '?', '#']),
        None => false,
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(v: serde_json::Value) -> Result<EmailJob, MalformedJob> {
        EmailJob::parse(&v.to_string(), None)
    }

    fn good() -> serde_json::Value {
        json!({"version":1,"id":"5f0c8a51-8d1b-4d55-9d0a-0c1f3e2b7a10","kind":"verify_email",
               "to":"ada@example.com",
               "data":{"link":"https://cadenza.example/verify-email?token=abc","expiresAt":"2026-11-30T10:00:00Z"},
               "createdAt":"2026-11-29T10:00:00Z"})
    }

    #[test]
    fn contract_job_parses_and_tolerates_extra_fields() {
        let mut v = good();
        v["data"]["userName"] = json!("Ada");
        v["traceId"] = json!("x");
        let j = job(v).unwrap();
        assert_eq!(j.kind, EmailKind::VerifyEmail);
        assert_eq!(j.to.as_str(), "ada@example.com");
        assert_eq!(
            j.link.unwrap().as_str(),
            "https://cadenza.example/verify-email?token=abc"
        );
        assert_eq!(j.expires_at.as_deref(), Some("2026-11-30T10:00:00Z"));
    }

    #[test]
    fn every_kind_parses_and_only_some_need_a_link() {
        for kind in EmailKind::ALL {
            let mut v = good();
            v["kind"] = json!(kind.as_str());
            assert_eq!(job(v.clone()).unwrap().kind, kind);
            v["data"] = json!({});
            assert_eq!(job(v).is_ok(), !kind.needs_link(), "{kind}");
        }
        let mut v = good();
        v["kind"] = json!("password_changed");
        v.as_object_mut().unwrap().remove("data");
        assert!(job(v).unwrap().link.is_none());
    }

    #[test]
    fn malformed_jobs_name_their_problem() {
        let cases: Vec<(serde_json::Value, &str)> = vec![
            (json!({"version":2}), "unsupported version 2"),
            (json!({"version":"1"}), "missing or non-integer version"),
            (
                json!({"version":1,"kind":"verify_email","to":"a@b.co"}),
                "missing id",
            ),
            (
                json!({"version":1,"id":"x","kind":"newsletter","to":"a@b.co"}),
                "unknown kind",
            ),
            (
                json!({"version":1,"id":"x","kind":"verify_email"}),
                "missing to",
            ),
            (
                json!({"version":1,"id":"x","kind":"verify_email","to":"not-an-address"}),
                "invalid to address",
            ),
            (
                json!({"version":1,"id":"x","kind":"verify_email","to":"a@b.co","data":{"link":"javascript:alert(1)"}}),
                "invalid data.link",
            ),
            (
                json!({"version":1,"id":"x","kind":"password_reset","to":"a@b.co"}),
                "needs data.link",
            ),
            (
                json!({"version":1,"id":"has space","kind":"password_changed","to":"a@b.co"}),
                "id is too long",
            ),
        ];
        for (v, want) in cases {
            let err = job(v.clone()).unwrap_err();
            assert!(err.0.contains(want), "{v}: got {err:?}, want {want:?}");
        }
        let err = EmailJob::parse("not json at all", None).unwrap_err();
        assert!(err.0.starts_with("body is not a JSON job"), "{err:?}");
    }

    #[test]
    fn links_must_stay_under_the_public_base_url_when_it_is_known() {
        let body = good().to_string();
        assert!(EmailJob::parse(&body, Some("https://cadenza.example")).is_ok());
        assert!(EmailJob::parse(&body, Some("https://cadenza.example/")).is_ok());
        let err = EmailJob::parse(&body, Some("https://cadenza.exam")).unwrap_err();
        assert!(err.0.contains("PUBLIC_BASE_URL"));
        assert!(EmailJob::parse(&body, Some("https://other.example")).is_err());
    }

    #[test]
    fn addresses() {
        for ok in [
            "ada@example.com",
            "first.last+tag@mail.example.co.uk",
            "o'brien@example.ie",
            "\"john doe\"@example.com",
            "\"a@b\"@example.com",
        ] {
            assert!(EmailAddress::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a..b@example.com",
            ".a@example.com",
            "a@b@example.com",
            "a b@example.com",
            "Ada <ada@example.com>",
            "josé@example.com",
            "ada@exämple.com",
            "ada@例え.jp",
            "a@exa_mple.com",
            "a@-example.com",
            "\"unterminated@example.com",
            "a@example.com\r\nBcc: x@example.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(65));
        assert!(EmailAddress::parse(&long).is_err());
    }

    #[test]
    fn links() {
        assert!(Link::parse("https://cadenza.example/password-reset?token=x").is_ok());
        assert!(Link::parse("http://localhost:5173/verify-email?token=x").is_ok());
        for bad in [
            "ftp://x",
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "https://a b",
            "//x.example",
        ] {
            assert!(Link::parse(bad).is_err(), "{bad}");
        }
    }
}
