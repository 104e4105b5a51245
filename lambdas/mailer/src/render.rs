//! Email rendering: one HTML and one plain-text minijinja template per kind,
//! compiled into the binary. `.html` templates are auto-escaped.

use std::fmt::Write as _;

use minijinja::{context, AutoEscape, Environment, Value};

use crate::job::{EmailJob, EmailKind};

/// What SES sends: a subject and both alternative bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub subject: String,
    pub html: String,
    pub text: String,
}

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
    ("_button.html", include_str!("../templates/_button.html")),
    (
        "verify_email.html",
        include_str!("../templates/verify_email.html"),
    ),
    (
        "verify_email.txt",
        include_str!("../templates/verify_email.txt"),
    ),
    (
        "password_reset.html",
        include_str!("../templates/password_reset.html"),
    ),
    (
        "password_reset.txt",
        include_str!("../templates/password_reset.txt"),
    ),
    (
        "password_changed.html",
        include_str!("../templates/password_changed.html"),
    ),
    (
        "password_changed.txt",
        include_str!("../templates/password_changed.txt"),
    ),
    (
        "account_exists.html",
        include_str!("../templates/account_exists.html"),
    ),
    (
        "account_exists.txt",
        include_str!("../templates/account_exists.txt"),
    ),
];

pub fn subject(kind: EmailKind) -> &'static str {
    match kind {
        EmailKind::VerifyEmail => "Confirm your email address for Cadenza",
        EmailKind::PasswordReset => "Reset your Cadenza password",
        EmailKind::PasswordChanged => "Your Cadenza password was changed",
        EmailKind::AccountExists => "You already have a Cadenza account",
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot render {kind} email: {source:#}")]
pub struct RenderError {
    kind: EmailKind,
    source: minijinja::Error,
}

pub struct EmailRenderer {
    env: Environment<'static>,
}

impl Default for EmailRenderer {
    fn default() -> Self {
        Self::new()
    }
}

impl EmailRenderer {
    /// Compiles every template; a syntax error is a bug caught by the tests,
    /// hence the panic.
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.set_formatter(html_formatter);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name}: {e:#}"));
        }
        Self { env }
    }

    pub fn render(&self, job: &EmailJob) -> Result<RenderedEmail, RenderError> {
        let subject = subject(job.kind);
        let ctx = context! {
            subject,
            to => job.to.as_str(),
            link => job.link.as_ref().map(|l| l.as_str()),
            expires_at => job.expires_at.as_deref().map(human_time),
            created_at => job.created_at.as_deref().map(human_time),
            year => chrono::Utc::now().format("%Y").to_string(),
        };
        let render = |ext: &str| {
            self.env
                .get_template(&format!("{}.{ext}", job.kind))
                .and_then(|t| t.render(&ctx))
                .map_err(|source| RenderError {
                    kind: job.kind,
                    source,
                })
        };
        Ok(RenderedEmail {
            subject: subject.to_owned(),
            html: render("html")?,
            text: render("txt")?,
        })
    }
}

/// minijinja's own HTML escaping also escapes `/`, which would turn every
/// URL into `https:&#x2f;&#x2f;…`. Escape what HTML needs (as MarkupSafe
/// does) and leave `/` alone, so links stay byte-identical in both parts.
fn html_formatter(
    out: &mut minijinja::Output<'_>,
    state: &minijinja::State<'_, '_>,
    value: &Value,
) -> Result<(), minijinja::Error> {
    if state.auto_escape() != AutoEscape::Html || value.is_safe() {
        return minijinja::escape_formatter(out, state, value);
    }
    if value.is_undefined() || value.is_none() {
        return Ok(());
    }
    let raw = value.to_string();
    let mut escaped = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&#34;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    out.write_str(&escaped).map_err(minijinja::Error::from)
}

/// `2026-11-30T10:00:00Z` → `30 November 2026 at 10:00 UTC`; anything that
/// is not RFC 3339 is shown as given.
fn human_time(raw: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(raw) {
        Ok(t) => {
            let mut s = String::new();
            let _ = write!(
                s,
                "{}",
                t.with_timezone(&chrono::Utc)
                    .format("%-d %B %Y at %H:%M UTC")
            );
            s
        }
        Err(_) => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::EmailJob;
    use serde_json::json;

    fn job(kind: &str, data: serde_json::Value) -> EmailJob {
        let v = json!({"version":1,"id":"j1","kind":kind,"to":"ada@example.com","data":data,
                       "createdAt":"2026-11-29T09:15:00Z"});
        EmailJob::parse(&v.to_string(), None).unwrap()
    }

    const LINK: &str = "https://cadenza.example/verify-email?token=Zm9v_YmFy-42";

    #[test]
    fn every_kind_renders_subject_link_and_expiry_in_both_parts() {
        let renderer = EmailRenderer::new();
        for kind in EmailKind::ALL {
            let link = LINK.replace("verify-email", &kind.as_str().replace('_', "-"));
            let j = job(
                kind.as_str(),
                json!({"link": link, "expiresAt": "2026-11-30T10:00:00Z"}),
            );
            let email = renderer.render(&j).unwrap();
            assert_eq!(email.subject, subject(kind));
            assert!(email.subject.contains("Cadenza"));
            assert!(
                email
                    .html
                    .contains(&format!("<title>{}</title>", email.subject)),
                "{kind}"
            );
            assert!(
                email.html.contains(&format!("href=\"{link}\"")),
                "{kind} html:\n{}",
                email.html
            );
            assert!(
                email.text.contains(&format!("\n{link}\n")),
                "{kind} text:\n{}",
                email.text
            );
            assert!(email.text.contains("ada@example.com"), "{kind}");
            assert!(
                !email.text.contains('<'),
                "{kind} text has markup:\n{}",
                email.text
            );
            assert!(
                !email.text.contains("\n\n\n"),
                "{kind} text has gaps:\n{}",
                email.text
            );
            if kind != EmailKind::PasswordChanged {
                assert!(
                    email.text.contains("30 November 2026 at 10:00 UTC"),
                    "{kind}:\n{}",
                    email.text
                );
                assert!(
                    email.html.contains("30 November 2026 at 10:00 UTC"),
                    "{kind}"
                );
            }
        }
    }

    #[test]
    fn kinds_with_an_optional_link_render_without_one() {
        let renderer = EmailRenderer::new();
        for kind in [EmailKind::PasswordChanged, EmailKind::AccountExists] {
            let email = renderer.render(&job(kind.as_str(), json!({}))).unwrap();
            assert!(!email.html.contains("href"), "{kind}");
            assert!(
                email.text.contains("Forgot password"),
                "{kind}:\n{}",
                email.text
            );
        }
        let changed = renderer
            .render(&job("password_changed", json!({})))
            .unwrap();
        assert!(
            changed.text.contains("29 November 2026 at 09:15 UTC"),
            "{}",
            changed.text
        );
    }

    #[test]
    fn account_exists_words_its_link_by_what_it_points_to() {
        let renderer = EmailRenderer::new();
        let reset = "https://cadenza.example/password-reset?token=r1";
        let email = renderer
            .render(&job("account_exists", json!({"link": reset})))
            .unwrap();
        assert!(
            email.html.contains(">Choose a new password</a>"),
            "{}",
            email.html
        );
        assert!(
            email
                .text
                .contains(&format!("choose a new one:\n\n{reset}\n")),
            "{}",
            email.text
        );
        let login = "https://cadenza.example/login";
        let email = renderer
            .render(&job("account_exists", json!({"link": login})))
            .unwrap();
        assert!(
            email.html.contains(">Sign in to Cadenza</a>"),
            "{}",
            email.html
        );
        assert!(
            email
                .text
                .contains(&format!("sign in instead:\n\n{login}\n")),
            "{}",
            email.text
        );
    }

    #[test]
    fn data_is_html_escaped_but_not_in_the_text_part() {
        let renderer = EmailRenderer::new();
        let j = job(
            "verify_email",
            json!({"link": "https://cadenza.example/verify-email?token=a&x=\"><script>alert(1)</script>",
                   "expiresAt": "<script>alert('x')</script>"}),
        );
        // The job parser lets `"<>` through in a link (it refuses only
        // whitespace and controls): escaping is what keeps them inert.
        let email = renderer.render(&j).unwrap();
        assert!(!email.html.contains("<script>"), "{}", email.html);
        assert!(email
            .html
            .contains("expires on &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;."));
        assert!(email.html.contains(
            "href=\"https://cadenza.example/verify-email?token=a&amp;x=&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""
        ), "{}", email.html);
        assert!(email.text.contains("<script>alert('x')</script>"));
    }
}
