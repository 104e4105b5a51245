//! HTTP handlers, one file per resource, and the checks they share.

pub mod albums;
pub mod songs;
pub mod upload;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use cadenza_catalog::{MAX_DURATION_SECONDS, MAX_TEXT_CHARS, MAX_TRACK_NUMBER};
use cadenza_platform::extract::Path;
use cadenza_platform::{FieldError, Problem};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::app::AppState;
use crate::db::{self, StoreError, VerifiedObject};
use crate::domain::media::{normalize_content_type, MediaKind};
use crate::objects::S3Error;
/// The route modules document their errors with the shared schema.
pub use cadenza_platform::openapi::ProblemDoc;

/// `{id}` path parameter, documentation only (handlers extract [`PathId`]).
#[derive(Debug, Deserialize, IntoParams)]
#[allow(dead_code)]
pub struct IdPath {
    /// A UUID.
    pub id: Uuid,
}

#[derive(Debug, Deserialize)]
struct RawId {
    id: String,
}

/// The `{id}` path parameter as a UUID; anything else is a 400 naming `id`.
#[derive(Debug, Clone, Copy)]
pub struct PathId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(RawId { id }) = Path::<RawId>::from_request_parts(parts, state).await?;
        Uuid::try_parse(&id)
            .map(PathId)
            .map_err(|_| Problem::malformed("id", "must be a valid UUID"))
    }
}

/// `?limit=&cursor=` (`cadenza_catalog::page`: the same rules as song-svc's lists).
pub use cadenza_catalog::page::PageParams;

/// `{message}` answers (deletes).
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageBody {
    pub message: String,
}

/// A trimmed, non-empty string of at most 200 characters.
pub fn text(field: &str, raw: &str, errors: &mut Vec<FieldError>) -> String {
    let value = raw.trim();
    if value.is_empty() {
        errors.push(FieldError::new(field, "must not be empty"));
    } else if value.chars().count() > MAX_TEXT_CHARS {
        errors.push(FieldError::new(
            field,
            format!("must be at most {MAX_TEXT_CHARS} characters"),
        ));
    } else if value.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    value.to_owned()
}

pub fn duration(field: &str, value: f64, errors: &mut Vec<FieldError>) -> f64 {
    if !value.is_finite() || value < 0.0 {
        errors.push(FieldError::new(field, "must be a number of seconds >= 0"));
    } else if value > MAX_DURATION_SECONDS {
        errors.push(FieldError::new(field, "must be at most 24 hours"));
    }
    value
}

pub fn track_number(field: &str, value: i64, errors: &mut Vec<FieldError>) -> i32 {
    if !(1..=i64::from(MAX_TRACK_NUMBER)).contains(&value) {
        errors.push(FieldError::new(
            field,
            format!("must be between 1 and {MAX_TRACK_NUMBER}"),
        ));
        return 1;
    }
    value as i32
}

pub fn check(errors: Vec<FieldError>) -> Result<(), Problem> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::invalid(errors))
    }
}

/// Checks a key's shape, then asks S3 whether the object exists with a type
/// matching the key's extension and a size within the kind's cap.
///
/// The seed's `{type}`-only upload URL does not sign the length, so this
/// HEAD is where the cap holds: an oversized object that no row references
/// is deleted before the 422.
pub async fn verify_object(
    state: &AppState,
    field: &str,
    kind: MediaKind,
    key: &str,
) -> Result<VerifiedObject, Problem> {
    let ext = kind
        .check_key(key)
        .map_err(|m| Problem::invalid_field(field, m))?;
    let info = state
        .media
        .head(key)
        .await?
        .ok_or_else(|| Problem::invalid_field(field, "no uploaded object with this key"))?;
    let content_type = normalize_content_type(info.content_type.as_deref().unwrap_or(""));
    if kind.extension(&content_type) != Some(ext) {
        return Err(Problem::invalid_field(
            field,
            format!(
                "the uploaded object has type {content_type:?}; expected {} matching .{ext}",
                kind.allowed_types()
            ),
        ));
    }
    if info.size <= 0 {
        return Err(Problem::invalid_field(
            field,
            "the uploaded object is empty",
        ));
    }
    if info.size > kind.max_bytes() {
        discard_unreferenced(state, key).await?;
        return Err(Problem::invalid_field(
            field,
            format!(
                "the uploaded object is larger than {} MiB",
                kind.max_bytes() / crate::domain::media::MIB
            ),
        ));
    }
    Ok(VerifiedObject {
        key: key.to_owned(),
        content_type,
        size_bytes: info.size,
    })
}

/// Deletes an object that failed the checks, unless a row already uses it
/// (an imported seed object may exceed today's caps and must stay).
async fn discard_unreferenced(state: &AppState, key: &str) -> Result<(), Problem> {
    if !db::is_referenced(&state.db, key).await? {
        state.media.delete(key).await?;
        tracing::info!(key, "oversized upload deleted");
    }
    Ok(())
}

/// What a store failure means to a client. The database's own verdict
/// (503 unreachable, 409 unique key, 500) comes from `Problem::from`, except
/// for the two constraints a client can break with a valid request.
impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Problem::not_found(format!("no such {what}")),
            StoreError::AlbumMissing => Problem::invalid_field("albumId", "no such album"),
            StoreError::AlbumFull => {
                Problem::invalid_field("trackNumber", "the album has no free track number left")
            }
            StoreError::Db(e) => {
                if let Some(db) = e.as_database_error() {
                    match (db.code().as_deref(), db.constraint()) {
                        (Some("23505"), Some(c)) if c.contains("audio_key") => {
                            return Problem::invalid_field(
                                "audioKey",
                                "is already used by another song",
                            )
                        }
                        (Some("23503"), _) => {
                            return Problem::invalid_field("albumId", "no such album")
                        }
                        _ => {}
                    }
                }
                Problem::from(e)
            }
        }
    }
}

/// The media bucket is a dependency: its failures are a 503 naming it.
impl From<S3Error> for Problem {
    fn from(e: S3Error) -> Self {
        Problem::unavailable("s3", e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        let mut errors = vec![];
        assert_eq!(
            text("name", "  Kind of Blue \n", &mut errors),
            "Kind of Blue"
        );
        assert!(errors.is_empty());
        text("name", "   ", &mut errors);
        text("artist", &"x".repeat(201), &mut errors);
        text("title", "a\u{0}b", &mut errors);
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "artist", "title"]);
        let mut ok = vec![];
        text("name", &"é".repeat(200), &mut ok);
        assert!(ok.is_empty(), "200 characters, not bytes");
    }

    #[test]
    fn durations_and_track_numbers_are_bounded() {
        let mut errors = vec![];
        duration("duration", 0.0, &mut errors);
        duration("duration", 86_400.0, &mut errors);
        assert!(errors.is_empty());
        duration("duration", -0.5, &mut errors);
        duration("duration", 86_400.5, &mut errors);
        duration("duration", f64::NAN, &mut errors);
        assert_eq!(errors.len(), 3);
        let mut errors = vec![];
        assert_eq!(track_number("trackNumber", 999, &mut errors), 999);
        track_number("trackNumber", 0, &mut errors);
        track_number("trackNumber", 1000, &mut errors);
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn store_failures_keep_their_meaning_for_clients() {
        use axum::http::StatusCode;
        let missing = Problem::from(StoreError::NotFound("song"));
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert_eq!(missing.detail, "no such song");
        let full = Problem::from(StoreError::AlbumFull);
        assert_eq!(full.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(full.errors[0].field, "trackNumber");
        assert_eq!(
            Problem::from(StoreError::AlbumMissing).errors[0].field,
            "albumId"
        );
        let down = Problem::from(StoreError::Db(sqlx::Error::PoolTimedOut));
        assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(down.retry_after.is_some());
        assert!(down.detail.contains("postgres"), "{}", down.detail);
        let s3 = Problem::from(S3Error::from_message("connection refused"));
        assert_eq!(s3.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(s3.detail.contains("s3"), "{}", s3.detail);
        assert_eq!(s3.cause(), Some("connection refused"));
    }
}
