use std::collections::BTreeMap;

use axum::extract::State;
use cadenza_auth::AdminUser;
use cadenza_platform::extract::Json;
use cadenza_platform::{chain, ApiResult, FieldError, Problem};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::db;
use crate::domain::media::{normalize_content_type, MediaKind, MIB};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadUrlRequest {
    /// `thumbnail` (cover image) or `song` (audio).
    #[serde(rename = "type")]
    #[schema(example = "song")]
    pub kind: String,
    /// image/jpeg, image/png, image/webp; audio/mpeg, audio/flac, audio/ogg, audio/mp4, audio/wav.
    /// Without it (the seed's request), the type's default: image/jpeg for
    /// `thumbnail`, audio/mpeg for `song`.
    #[schema(example = "audio/mpeg")]
    pub content_type: Option<String>,
    /// Exact byte length of the file (covers ≤ 10 MiB, audio ≤ 500 MiB).
    /// Recommended: when given, S3 refuses any other length. Without it (the
    /// seed's request), the cap is checked when the album or song is created.
    #[schema(example = 4_194_304)]
    pub size: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadUrlResponse {
    /// PUT the file here within 300 s.
    #[serde(rename = "presignedURL")]
    pub presigned_url: String,
    /// Reference this key when creating the album or song.
    pub file_key: String,
    /// Send exactly these headers with the PUT: they are signed, so S3
    /// refuses another type or length (Content-Length only when `size` was
    /// given).
    pub headers: BTreeMap<String, String>,
    pub expires_at: DateTime<Utc>,
}

/// A presigned PUT for one cover or audio file.
#[utoipa::path(
    post, path = "/upload-url", tag = "uploads",
    request_body = UploadUrlRequest,
    responses(
        (status = 200, body = UploadUrlResponse),
        (status = 401, body = super::ProblemDoc), (status = 403, body = super::ProblemDoc),
        (status = 422, description = "unknown type, disallowed content type or size", body = super::ProblemDoc),
        (status = 503, description = "the upload ledger (PostgreSQL) or S3 is unavailable; no URL was issued", body = super::ProblemDoc),
    ),
    security(("bearer" = []))
)]
pub async fn create_upload_url(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Json(req): Json<UploadUrlRequest>,
) -> ApiResult<Json<UploadUrlResponse>> {
    let kind = MediaKind::parse(&req.kind)
        .ok_or_else(|| Problem::invalid_field("type", "must be \"thumbnail\" or \"song\""))?;
    let content_type = match req.content_type.as_deref() {
        Some(raw) => normalize_content_type(raw),
        None => kind.default_content_type().to_owned(),
    };
    let mut errors = vec![];
    let ext = kind.extension(&content_type);
    if ext.is_none() {
        errors.push(FieldError::new(
            "contentType",
            format!("must be {} for type {:?}", kind.allowed_types(), req.kind),
        ));
    }
    if req
        .size
        .is_some_and(|size| size < 1 || size > kind.max_bytes())
    {
        errors.push(FieldError::new(
            "size",
            format!("must be between 1 byte and {} MiB", kind.max_bytes() / MIB),
        ));
    }
    super::check(errors)?;
    let key = kind.new_key(ext.unwrap_or_default());
    // Recorded before any URL exists: the sweeper only ever removes ledger
    // keys, so an upload it cannot prove admin-svc issued is never lost.
    // Any failure here means no URL can be issued: a 503, whatever the cause.
    db::uploads::record(&state.db, &key, kind, &content_type, req.size)
        .await
        .map_err(|e| Problem::unavailable("postgres", chain(&e)))?;
    let upload = state
        .media
        .presign_put(&key, &content_type, req.size)
        .await?;
    tracing::info!(admin = %admin.sub, key, size = ?req.size, "upload URL issued");
    Ok(Json(UploadUrlResponse {
        presigned_url: upload.url,
        file_key: key,
        headers: upload.headers,
        expires_at: upload.expires_at,
    }))
}
