//! The local outbox: moto keeps every email its SES accepted and exposes them
//! at `GET <endpoint>/moto-api/data.json` (`ses` → `Message`). For
//! development only; real SES has no such thing.

use serde::Deserialize;

/// One email moto's SES accepted. moto stores only one body per message:
/// the HTML part when there is one.
#[derive(Debug, Clone, Deserialize)]
pub struct SentMail {
    pub id: String,
    #[serde(rename = "source")]
    pub from: String,
    pub subject: String,
    pub body: String,
    #[serde(default)]
    pub destinations: Destinations,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Destinations {
    #[serde(default)]
    pub to_addresses: Vec<String>,
    #[serde(default)]
    pub cc_addresses: Vec<String>,
    #[serde(default)]
    pub bcc_addresses: Vec<String>,
}

impl SentMail {
    pub fn recipients(&self) -> impl Iterator<Item = &str> {
        let d = &self.destinations;
        d.to_addresses
            .iter()
            .chain(&d.cc_addresses)
            .chain(&d.bcc_addresses)
            .map(String::as_str)
    }

    pub fn is_to(&self, address: &str) -> bool {
        self.recipients().any(|r| r.eq_ignore_ascii_case(address))
    }

    /// The first http(s) URL in the body, with HTML entities for `&` undone.
    pub fn first_link(&self) -> Option<String> {
        let start = ["https://", "http://"]
            .iter()
            .filter_map(|p| self.body.find(p))
            .min()?;
        let rest = &self.body[start..];
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>'))
            .unwrap_or(rest.len());
        Some(rest[..end].replace("&amp;", "&"))
    }
}

#[derive(Deserialize)]
struct MotoData {
    #[serde(default)]
    ses: MotoSes,
}

#[derive(Deserialize, Default)]
struct MotoSes {
    #[serde(rename = "Message", default)]
    messages: Vec<SentMail>,
}

/// Every email moto's SES holds, oldest first.
pub async fn fetch(endpoint: &str) -> anyhow::Result<Vec<SentMail>> {
    let url = format!("{}/moto-api/data.json", endpoint.trim_end_matches('/'));
    let response = reqwest::get(&url).await?.error_for_status()?;
    let data: MotoData = response.json().await?;
    Ok(data.ses.messages)
}

/// The newest `limit` emails (newest first), optionally only those to `to`.
pub fn latest<'a>(mails: &'a [SentMail], to: Option<&str>, limit: usize) -> Vec<&'a SentMail> {
    mails
        .iter()
        .rev()
        .filter(|m| to.is_none_or(|addr| m.is_to(addr)))
        .take(limit)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(to: &str, body: &str) -> SentMail {
        serde_json::from_value(serde_json::json!({
            "id": "m", "source": "no-reply@cadenza.local", "subject": "s", "body": body,
            "destinations": {"ToAddresses": [to]}
        }))
        .unwrap()
    }

    #[test]
    fn first_link_is_found_and_unescaped() {
        let m = mail(
            "a@example.com",
            "<a href=\"https://x.example/p?token=1&amp;b=2\">go</a> http://later",
        );
        assert_eq!(
            m.first_link().as_deref(),
            Some("https://x.example/p?token=1&b=2")
        );
        assert_eq!(mail("a@example.com", "no links").first_link(), None);
    }

    #[test]
    fn latest_filters_by_recipient_newest_first() {
        let mails = vec![
            mail("a@example.com", "1"),
            mail("b@example.com", "2"),
            mail("A@example.com", "3"),
        ];
        let got: Vec<&str> = latest(&mails, Some("a@example.com"), 10)
            .iter()
            .map(|m| m.body.as_str())
            .collect();
        assert_eq!(got, ["3", "1"]);
        assert_eq!(latest(&mails, None, 1)[0].body, "3");
    }
}
