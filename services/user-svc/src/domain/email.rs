use cadenza_platform::Problem;

pub const MAX_EMAIL_LEN: usize = 254;

/// A normalised (trimmed, lowercased) and syntax-checked email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("is required".into());
        }
        // The mailer (and SES) cannot deliver SMTPUTF8 addresses: an account
        // under one could never verify or reset. Refuse them everywhere,
        // before anything is stored (issue 14).
        if !email.is_ascii() {
            return Err(
                "must be an ASCII address (internationalised addresses cannot be mailed)".into(),
            );
        }
        if email.len() > MAX_EMAIL_LEN {
            return Err(format!("must be at most {MAX_EMAIL_LEN} characters"));
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err("must be a valid email address".into());
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !local_ok || !domain_ok {
            return Err("must be a valid email address".into());
        }
        Ok(Self(email))
    }

    /// Parses a request field, answering 422 naming `field`.
    pub fn from_field(field: &str, raw: &str) -> Result<Self, Problem> {
        Self::parse(raw).map_err(|m| Problem::invalid_field(field, m))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised() {
        assert_eq!(
            Email::parse("  Alice@Example.COM ").unwrap().as_str(),
            "alice@example.com"
        );
        assert_eq!(
            Email::parse("a.b+tag@sub.example.org").unwrap().as_str(),
            "a.b+tag@sub.example.org"
        );
    }

    #[test]
    fn bad_emails_are_refused() {
        for bad in [
            "",
            "   ",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a@@example.com",
            "a b@example.com",
            ".a@example.com",
            "a..b@example.com",
            "a@-example.com",
            "a@example..com",
            "a@exa_mple.com",
            "<script>@x.com",
            "josé@example.com",
            "ada@exämple.com",
            "ada@例え.jp",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).unwrap_err().contains("254"));
    }
}
