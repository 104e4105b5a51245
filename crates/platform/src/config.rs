//! Twelve-factor configuration: every value comes from the environment, and
//! every secret may instead be given as `NAME_FILE`, a path to a file holding
//! it (how Kubernetes mounts Secrets).
//!
//! Services build their own typed config structs from these helpers. A
//! missing or malformed value is a [`ConfigError`] naming the variable, which
//! `main` turns into a one-line message and a non-zero exit.

use std::fmt::Display;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error: {var}: {reason}")]
pub struct ConfigError {
    pub var: String,
    pub reason: String,
}

impl ConfigError {
    pub fn new(var: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            var: var.into(),
            reason: reason.into(),
        }
    }
}

/// The value of `name`, or the contents of the file named by `name_FILE`.
/// An empty value counts as unset. Giving both forms is an error, since one of
/// them would be silently ignored.
pub fn var(name: &str) -> Result<Option<String>, ConfigError> {
    let direct = std::env::var(name).ok().filter(|v| !v.is_empty());
    let file_var = format!("{name}_FILE");
    let from_file = std::env::var(&file_var).ok().filter(|v| !v.is_empty());
    match (direct, from_file) {
        (Some(_), Some(_)) => Err(ConfigError::new(
            name,
            format!("both {name} and {file_var} are set; set only one"),
        )),
        (Some(v), None) => Ok(Some(v)),
        (None, Some(path)) => match std::fs::read_to_string(&path) {
            Ok(contents) => {
                let trimmed = contents.trim_end_matches(['\n', '\r']).to_owned();
                if trimmed.is_empty() {
                    Err(ConfigError::new(&file_var, format!("file {path} is empty")))
                } else {
                    Ok(Some(trimmed))
                }
            }
            Err(e) => Err(ConfigError::new(
                &file_var,
                format!("cannot read {path}: {e}"),
            )),
        },
        (None, None) => Ok(None),
    }
}

/// A required variable.
pub fn require(name: &str) -> Result<String, ConfigError> {
    var(name)?.ok_or_else(|| ConfigError::new(name, "is required but not set"))
}

/// A variable parsed with `FromStr`, or `default` when unset.
pub fn parse_or<T>(name: &str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    match var(name)? {
        Some(raw) => parse_value(name, &raw),
        None => Ok(default),
    }
}

/// An optional variable parsed with `FromStr`.
pub fn parse_opt<T>(name: &str) -> Result<Option<T>, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    var(name)?.map(|raw| parse_value(name, &raw)).transpose()
}

fn parse_value<T>(name: &str, raw: &str) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    raw.trim()
        .parse()
        .map_err(|e| ConfigError::new(name, format!("invalid value {raw:?}: {e}")))
}

/// The address the HTTP listener binds: `BIND_ADDR`, default `0.0.0.0` (a
/// pod must listen on its own interface). Dev sets 127.0.0.1 so that only the
/// loopback gateway, never a neighbour on the LAN, reaches a service directly.
pub fn bind_addr() -> Result<std::net::IpAddr, ConfigError> {
    parse_or("BIND_ADDR", std::net::IpAddr::from([0, 0, 0, 0]))
}

/// A boolean: `true/false/1/0/yes/no`.
pub fn flag(name: &str, default: bool) -> Result<bool, ConfigError> {
    match var(name)? {
        None => Ok(default),
        Some(raw) => match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            other => Err(ConfigError::new(
                name,
                format!("invalid boolean {other:?} (use true or false)"),
            )),
        },
    }
}

/// An absolute http(s) URL without a trailing slash.
pub fn base_url(name: &str) -> Result<String, ConfigError> {
    let raw = require(name)?;
    check_base_url(name, &raw)
}

pub fn check_base_url(name: &str, raw: &str) -> Result<String, ConfigError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {
            Ok(trimmed.to_owned())
        }
        _ => Err(ConfigError::new(
            name,
            format!("{raw:?} is not an absolute http(s) URL"),
        )),
    }
}

/// Unwraps a config result or exits the process with a one-line message.
/// Used only by `main`; libraries return the error.
pub fn or_exit<T>(service: &str, result: Result<T, ConfigError>) -> T {
    match result {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{service}: {e}");
            std::process::exit(2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Environment variables are process-global; each test uses its own names.

    #[test]
    fn file_form_is_read_and_trimmed() {
        let dir = std::env::temp_dir().join(format!("cadenza-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secret");
        std::fs::write(&path, "s3cret\n").unwrap();
        std::env::set_var("CFGTEST_A_FILE", &path);
        assert_eq!(var("CFGTEST_A").unwrap().as_deref(), Some("s3cret"));
        std::env::set_var("CFGTEST_A", "direct");
        let err = var("CFGTEST_A").unwrap_err();
        assert!(err.reason.contains("only one"), "{err}");
    }

    #[test]
    fn missing_file_names_the_file_variable() {
        std::env::set_var("CFGTEST_B_FILE", "/nonexistent/cadenza/secret");
        let err = var("CFGTEST_B").unwrap_err();
        assert_eq!(err.var, "CFGTEST_B_FILE");
    }

    #[test]
    fn required_and_parsed_values_name_the_variable() {
        let err = require("CFGTEST_MISSING").unwrap_err();
        assert_eq!(
            err.to_string(),
            "configuration error: CFGTEST_MISSING: is required but not set"
        );
        std::env::set_var("CFGTEST_PORT", "eighty");
        let err = parse_or::<u16>("CFGTEST_PORT", 1).unwrap_err();
        assert_eq!(err.var, "CFGTEST_PORT");
        std::env::set_var("CFGTEST_PORT2", "8080");
        assert_eq!(parse_or::<u16>("CFGTEST_PORT2", 1).unwrap(), 8080);
        assert_eq!(parse_or::<u16>("CFGTEST_UNSET", 7).unwrap(), 7);
    }

    #[test]
    fn base_urls_are_checked_and_normalised() {
        assert_eq!(
            check_base_url("X", "https://cadenza.example/").unwrap(),
            "https://cadenza.example"
        );
        assert!(check_base_url("X", "cadenza.example").is_err());
        assert!(check_base_url("X", "http://").is_err());
    }

    #[test]
    fn flags_reject_garbage() {
        std::env::set_var("CFGTEST_FLAG", "maybe");
        assert!(flag("CFGTEST_FLAG", true).is_err());
        std::env::set_var("CFGTEST_FLAG2", "false");
        assert!(!flag("CFGTEST_FLAG2", true).unwrap());
    }
}
