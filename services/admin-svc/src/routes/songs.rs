use axum::extract::State;
use axum::http::StatusCode;
use cadenza_auth::AdminUser;
use cadenza_catalog::{page, queries, Cursor, SongJson};
use cadenza_events::{channel, AlbumEvent, SongEvent};
use cadenza_platform::extract::{Json, Query};
use cadenza_platform::{ApiResult, FieldError, Problem};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    check, duration, text, track_number, verify_object, IdPath, MessageBody, PageParams, PathId,
    ProblemDoc,
};
use crate::app::AppState;
use crate::db::songs::{self as db_songs, NewSong, SongChanges};
use crate::domain::media::MediaKind;
use cadenza_catalog::SongStatus;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateSong {
    pub title: String,
    pub artist: String,
    /// A `songs/…` key from `/upload-url`, already uploaded.
    pub audio_key: String,
    /// Seconds, 0..=86400.
    pub duration: f64,
    pub album_id: Uuid,
    /// Optional artwork: a `thumbnails/…` key (may be the album's cover).
    pub image_url: Option<String>,
    /// 1..=999; defaults to the album's next free number.
    pub track_number: Option<i64>,
}

/// Any subset of the fields. `imageUrl: null` removes the artwork.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateSong {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub audio_key: Option<String>,
    pub duration: Option<f64>,
    pub album_id: Option<Uuid>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub image_url: Option<Option<String>>,
    pub track_number: Option<i64>,
}

/// Tells `"imageUrl": null` (Some(None)) from an absent field (None).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SongList {
    pub songs: Vec<SongJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SongBody {
    pub message: String,
    pub song: SongJson,
}

fn blank_to_none(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

/// Songs, newest first (as in the seed).
#[utoipa::path(
    get, path = "/song", tag = "songs", params(PageParams),
    responses((status = 200, body = SongList), (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    _: AdminUser,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<SongList>> {
    let (rows, next_cursor) = match params.page()? {
        None => (queries::all_songs(&state.db).await?, None),
        Some((limit, after)) => {
            page::fetch_page(
                limit,
                |n| queries::songs_page(&state.db, n, after),
                |r| Cursor::new(r.created_at, r.id),
            )
            .await?
        }
    };
    Ok(Json(SongList {
        songs: rows.into_iter().map(SongJson::with_audio_key).collect(),
        next_cursor,
    }))
}

/// Creates a song whose audio was uploaded with `/upload-url`.
#[utoipa::path(
    post, path = "/song", tag = "songs", request_body = CreateSong,
    responses(
        (status = 201, body = SongBody),
        (status = 422, description = "invalid field, unknown album, or the audio is missing / of the wrong type or size", body = ProblemDoc),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    _: AdminUser,
    Json(req): Json<CreateSong>,
) -> ApiResult<(StatusCode, Json<SongBody>)> {
    let mut errors = vec![];
    let title = text("title", &req.title, &mut errors);
    let artist = text("artist", &req.artist, &mut errors);
    let duration_seconds = duration("duration", req.duration, &mut errors);
    let track = req
        .track_number
        .map(|n| track_number("trackNumber", n, &mut errors));
    check(errors)?;
    if queries::album(&state.db, req.album_id).await?.is_none() {
        return Err(Problem::invalid_field("albumId", "no such album"));
    }
    // Held from the HEADs to the commit, so no purge deletes the objects between.
    let hold = state
        .key_locks
        .hold(std::iter::once(req.audio_key.trim()).chain(blank_to_none(req.image_url.as_deref())))
        .await?;
    let audio = verify_object(&state, "audioKey", MediaKind::Audio, req.audio_key.trim()).await?;
    let image_key = match blank_to_none(req.image_url.as_deref()) {
        Some(key) => Some(
            verify_object(&state, "imageUrl", MediaKind::Cover, key)
                .await?
                .key,
        ),
        None => None,
    };
    let written = db_songs::insert(
        &state.db,
        &NewSong {
            album_id: req.album_id,
            title,
            artist,
            audio,
            duration_seconds,
            track_number: track,
            image_key,
            status: SongStatus::for_new_audio(state.media_worker),
        },
    )
    .await;
    hold.release().await;
    let written = written?;
    let row = written.value;
    state
        .effects
        .publish(
            channel::SONG_CREATED,
            SongEvent {
                song_id: row.id,
                album_id: row.album_id,
                same_album: false,
            },
            written.version,
        )
        .await;
    Ok((
        StatusCode::CREATED,
        Json(SongBody {
            message: "Song created".into(),
            song: SongJson::with_audio_key(row),
        }),
    ))
}

/// Changes any subset of a song's fields. A replaced audio or artwork
/// object is deleted once the change is committed. Moving a song to
/// another album also publishes `album:updated` for the album it left.
#[utoipa::path(
    patch, path = "/song/{id}", tag = "songs", params(IdPath), request_body = UpdateSong,
    responses((status = 200, body = SongBody), (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    _: AdminUser,
    PathId(id): PathId,
    Json(req): Json<UpdateSong>,
) -> ApiResult<Json<SongBody>> {
    let empty = req.title.is_none()
        && req.artist.is_none()
        && req.audio_key.is_none()
        && req.duration.is_none()
        && req.album_id.is_none()
        && req.image_url.is_none()
        && req.track_number.is_none();
    if empty {
        return Err(Problem::invalid_field(
            "body",
            "at least one field to change is required",
        ));
    }
    let mut errors = vec![];
    let title = req.title.as_deref().map(|v| text("title", v, &mut errors));
    let artist = req
        .artist
        .as_deref()
        .map(|v| text("artist", v, &mut errors));
    let duration_seconds = req.duration.map(|v| duration("duration", v, &mut errors));
    if state.media_worker && req.duration.is_some() && req.audio_key.is_none() {
        // The worker measured this audio; a typed duration would undo it.
        errors.push(FieldError::new(
            "duration",
            "the server measures the duration of a song's audio; send one only with new audio",
        ));
    }
    let track = req
        .track_number
        .map(|n| track_number("trackNumber", n, &mut errors));
    check(errors)?;
    let hold = state
        .key_locks
        .hold(
            req.audio_key.as_deref().map(str::trim).into_iter().chain(
                req.image_url
                    .as_ref()
                    .and_then(|v| blank_to_none(v.as_deref())),
            ),
        )
        .await?;
    let audio = match req.audio_key.as_deref() {
        Some(key) => Some(verify_object(&state, "audioKey", MediaKind::Audio, key.trim()).await?),
        None => None,
    };
    let image_key = match &req.image_url {
        None => None,
        Some(v) => match blank_to_none(v.as_deref()) {
            None => Some(None),
            Some(key) => Some(Some(
                verify_object(&state, "imageUrl", MediaKind::Cover, key)
                    .await?
                    .key,
            )),
        },
    };
    let written = db_songs::update(
        &state.db,
        id,
        &SongChanges {
            album_id: req.album_id,
            title,
            artist,
            audio,
            duration_seconds,
            track_number: track,
            image_key,
            status_on_new_audio: Some(SongStatus::for_new_audio(state.media_worker)),
        },
    )
    .await;
    hold.release().await;
    let written = written?;
    let (before, after) = written.value;
    state
        .effects
        .publish(
            channel::SONG_UPDATED,
            SongEvent {
                song_id: after.id,
                album_id: after.album_id,
                same_album: before.album_id == after.album_id,
            },
            written.version,
        )
        .await;
    if before.album_id != after.album_id {
        state
            .effects
            .publish(
                channel::ALBUM_UPDATED,
                AlbumEvent {
                    album_id: before.album_id,
                },
                written.version,
            )
            .await;
    }
    state.effects.purge(written.orphaned_keys);
    Ok(Json(SongBody {
        message: "Song updated".into(),
        song: SongJson::with_audio_key(after),
    }))
}

/// Deletes a song and its media.
#[utoipa::path(
    delete, path = "/song/{id}", tag = "songs", params(IdPath),
    responses((status = 200, body = MessageBody), (status = 404, body = ProblemDoc)),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    _: AdminUser,
    PathId(id): PathId,
) -> ApiResult<Json<MessageBody>> {
    let written = db_songs::delete(&state.db, id).await?;
    let song = written.value;
    state
        .effects
        .publish(
            channel::SONG_DELETED,
            SongEvent {
                song_id: song.id,
                album_id: song.album_id,
                same_album: false,
            },
            written.version,
        )
        .await;
    state.effects.purge(written.orphaned_keys);
    Ok(Json(MessageBody {
        message: "Song deleted".into(),
    }))
}
