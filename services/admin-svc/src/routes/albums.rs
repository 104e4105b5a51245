use axum::extract::State;
use axum::http::StatusCode;
use cadenza_auth::AdminUser;
use cadenza_catalog::{page, queries, AlbumJson, Cursor, SongJson};
use cadenza_events::{channel, AlbumEvent, SongEvent};
use cadenza_platform::extract::{Json, Query};
use cadenza_platform::{ApiResult, Problem};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{check, text, verify_object, IdPath, MessageBody, PageParams, PathId, ProblemDoc};
use crate::app::AppState;
use crate::db::albums::{self as db_albums, AlbumChanges, NewAlbum};
use crate::domain::media::MediaKind;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateAlbum {
    pub name: String,
    pub artist: String,
    /// A `thumbnails/…` key from `/upload-url`, already uploaded.
    pub thumbnail_key: String,
}

/// Any subset of the fields.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateAlbum {
    pub name: Option<String>,
    pub artist: Option<String>,
    /// A new cover; the old object is deleted once the change is committed.
    pub thumbnail_key: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlbumList {
    pub albums: Vec<AlbumJson>,
    /// Present when paginating and more albums follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlbumBody {
    pub message: String,
    pub album: AlbumJson,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlbumSongs {
    pub songs: Vec<SongJson>,
}

/// Albums, newest first.
#[utoipa::path(
    get, path = "/album", tag = "albums", params(PageParams),
    responses((status = 200, body = AlbumList), (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    _: AdminUser,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<AlbumList>> {
    let (rows, next_cursor) = match params.page()? {
        None => (queries::all_albums(&state.db).await?, None),
        Some((limit, after)) => {
            page::fetch_page(
                limit,
                |n| queries::albums_page(&state.db, n, after),
                |r| Cursor::new(r.created_at, r.id),
            )
            .await?
        }
    };
    Ok(Json(AlbumList {
        albums: rows.into_iter().map(|r| state.album_json(r)).collect(),
        next_cursor,
    }))
}

/// Creates an album whose cover was uploaded with `/upload-url`.
#[utoipa::path(
    post, path = "/album", tag = "albums", request_body = CreateAlbum,
    responses(
        (status = 201, body = AlbumBody),
        (status = 422, description = "invalid field, or the cover is missing / of the wrong type or size", body = ProblemDoc),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    _: AdminUser,
    Json(req): Json<CreateAlbum>,
) -> ApiResult<(StatusCode, Json<AlbumBody>)> {
    let mut errors = vec![];
    let name = text("name", &req.name, &mut errors);
    let artist = text("artist", &req.artist, &mut errors);
    check(errors)?;
    // Held from the HEAD to the commit, so no purge deletes the cover between.
    let hold = state.key_locks.hold([req.thumbnail_key.trim()]).await?;
    let cover = verify_object(
        &state,
        "thumbnailKey",
        MediaKind::Cover,
        req.thumbnail_key.trim(),
    )
    .await?;
    let written = db_albums::insert(
        &state.db,
        &NewAlbum {
            name,
            artist,
            thumbnail_key: cover.key,
        },
    )
    .await;
    hold.release().await;
    let written = written?;
    let row = written.value;
    state
        .effects
        .publish(
            channel::ALBUM_CREATED,
            AlbumEvent { album_id: row.id },
            written.version,
        )
        .await;
    Ok((
        StatusCode::CREATED,
        Json(AlbumBody {
            message: "Album created".into(),
            album: state.album_json(row),
        }),
    ))
}

/// Changes any subset of an album's fields.
#[utoipa::path(
    patch, path = "/album/{id}", tag = "albums", params(IdPath), request_body = UpdateAlbum,
    responses((status = 200, body = AlbumBody), (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    _: AdminUser,
    PathId(id): PathId,
    Json(req): Json<UpdateAlbum>,
) -> ApiResult<Json<AlbumBody>> {
    if req.name.is_none() && req.artist.is_none() && req.thumbnail_key.is_none() {
        return Err(Problem::invalid_field(
            "body",
            "name, artist or thumbnailKey is required",
        ));
    }
    let mut errors = vec![];
    let name = req.name.as_deref().map(|v| text("name", v, &mut errors));
    let artist = req
        .artist
        .as_deref()
        .map(|v| text("artist", v, &mut errors));
    check(errors)?;
    let hold = state
        .key_locks
        .hold(req.thumbnail_key.as_deref().map(str::trim))
        .await?;
    let thumbnail_key = match req.thumbnail_key.as_deref() {
        Some(key) => Some(
            verify_object(&state, "thumbnailKey", MediaKind::Cover, key.trim())
                .await?
                .key,
        ),
        None => None,
    };
    let written = db_albums::update(
        &state.db,
        id,
        &AlbumChanges {
            name,
            artist,
            thumbnail_key,
        },
    )
    .await;
    hold.release().await;
    let written = written?;
    state
        .effects
        .publish(
            channel::ALBUM_UPDATED,
            AlbumEvent { album_id: id },
            written.version,
        )
        .await;
    state.effects.purge(written.orphaned_keys);
    let (_, after) = written.value;
    Ok(Json(AlbumBody {
        message: "Album updated".into(),
        album: state.album_json(after),
    }))
}

/// Deletes an album, its songs, and all their media.
///
/// Publishes `song:deleted` for each of its songs, then `album:deleted`.
#[utoipa::path(
    delete, path = "/album/{id}", tag = "albums", params(IdPath),
    responses((status = 200, body = MessageBody), (status = 404, body = ProblemDoc)),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    _: AdminUser,
    PathId(id): PathId,
) -> ApiResult<Json<MessageBody>> {
    let written = db_albums::delete(&state.db, id).await?;
    let (album, songs) = written.value;
    for song in &songs {
        state
            .effects
            .publish(
                channel::SONG_DELETED,
                SongEvent {
                    song_id: song.id,
                    album_id: album.id,
                    same_album: false,
                },
                written.version,
            )
            .await;
    }
    state
        .effects
        .publish(
            channel::ALBUM_DELETED,
            AlbumEvent { album_id: album.id },
            written.version,
        )
        .await;
    state.effects.purge(written.orphaned_keys);
    Ok(Json(MessageBody {
        message: format!("Album deleted with {} song(s)", songs.len()),
    }))
}

/// An album's songs by track number.
#[utoipa::path(
    get, path = "/album/{id}/song", tag = "albums", params(IdPath),
    responses((status = 200, body = AlbumSongs), (status = 404, body = ProblemDoc)),
    security(("bearer" = []))
)]
pub async fn songs(
    State(state): State<AppState>,
    _: AdminUser,
    PathId(id): PathId,
) -> ApiResult<Json<AlbumSongs>> {
    if queries::album(&state.db, id).await?.is_none() {
        return Err(Problem::not_found("no such album"));
    }
    let rows = queries::album_songs(&state.db, id).await?;
    Ok(Json(AlbumSongs {
        songs: rows.into_iter().map(SongJson::with_audio_key).collect(),
    }))
}
