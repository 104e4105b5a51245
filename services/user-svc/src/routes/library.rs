//! The repair of a song deletion whose event never reached user-svc.
//!
//! `song:deleted` travels over Redis Pub/Sub, which is at-most-once: a
//! publish that failed after the commit, or a subscription that was down at
//! that moment, leaves the song in playlists, favourites and history. The
//! song lookup (`POST /api/song/songs`) names it as `missing`, and the
//! listener's client then asks for it to be dropped from the listener's own
//! playlists and favourites here. Nothing is taken on trust that matters:
//! a listener can only drop songs from their own lists, as the remove
//! buttons can; their listening history is left as it is.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use cadenza_auth::AuthUser;
use cadenza_platform::extract::Json;
use cadenza_platform::Problem;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::routes::playlists::song_ids;

/// The most song ids one request names (one song lookup's worth).
pub const MAX_PRUNE: usize = 500;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PruneSongs {
    /// 1–500 song ids the catalogue no longer has.
    pub song_ids: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pruned {
    /// Playlist entries removed (each playlist's revision moves on).
    pub entries: u64,
    pub favorites: u64,
}

/// Drops songs the catalogue no longer has from your playlists and
/// favourites (a deletion whose event was missed).
#[utoipa::path(post, path = "/api/user/library/prune", operation_id = "prune_library", tag = "playlists", security(("bearer" = [])), request_body = PruneSongs,
    responses((status = 200, body = Pruned), (status = 401), (status = 422, description = "`songIds` empty, longer than 500, or with an empty or over-long id"), (status = 429)))]
pub async fn prune(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    Json(req): Json<PruneSongs>,
) -> Result<Response, Response> {
    crate::routes::playlists::writer(&state, &claims).await?;
    // Any id a favourite can hold (an old import's id that is not a UUID
    // names no song either, and is as much worth dropping), lower-cased as
    // favourites keep it; a UUID in both of the forms a favourite may have
    // been given in (playlist entries hold the hyphenated one).
    let mut songs = song_ids(&req.song_ids, MAX_PRUNE, "a song id", |id| {
        crate::routes::favorites::song_id(id).ok()
    })
    .map_err(IntoResponse::into_response)?;
    let forms: Vec<String> = songs
        .iter()
        .filter_map(|id| uuid::Uuid::parse_str(id).ok())
        .flat_map(|u| [u.hyphenated().to_string(), u.simple().to_string()])
        .collect();
    songs.extend(forms);
    songs.sort();
    songs.dedup();
    let (entries, favorites) = state
        .store
        .forget_songs(Some(&claims.sub), &songs)
        .await
        .map_err(|e| Problem::from(e).into_response())?;
    if entries + favorites > 0 {
        metrics::counter!("user_deleted_song_entries_total").increment(entries + favorites);
        tracing::info!(
            entries,
            favorites,
            "missed song deletions repaired for a listener"
        );
    }
    Ok(axum::Json(Pruned { entries, favorites }).into_response())
}
