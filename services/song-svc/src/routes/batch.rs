//! `/api/song/songs`: many songs in one lookup (GET with `?ids=`, POST
//! with a JSON body), put together from each song's cached view.

use std::collections::{HashMap, HashSet};

use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use cadenza_platform::extract::{Json, Query};
use cadenza_platform::{ApiResult, Problem};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::json;
use crate::app::AppState;
use crate::store::{to_bytes, BatchSong, SongBatch};

/// The most ids one batch lookup takes.
pub const MAX_BATCH_IDS: usize = 500;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchParams {
    /// Comma-separated song ids (UUIDs), 1–500. Long lists: use the POST form.
    pub ids: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchRequest {
    /// Song ids (UUIDs), 1–500.
    pub ids: Vec<String>,
}

/// The ids of a batch lookup, in order, each once; a bad one is a 422 that
/// names its position.
fn batch_ids<'a>(raw: impl ExactSizeIterator<Item = &'a str>) -> Result<Vec<Uuid>, Problem> {
    if raw.len() == 0 {
        return Err(Problem::invalid_field(
            "ids",
            "at least one song id is required",
        ));
    }
    if raw.len() > MAX_BATCH_IDS {
        return Err(Problem::invalid_field(
            "ids",
            format!("at most {MAX_BATCH_IDS} song ids per lookup"),
        ));
    }
    let mut seen = HashSet::with_capacity(raw.len());
    let mut ids = Vec::with_capacity(raw.len());
    for (i, s) in raw.enumerate() {
        let id = Uuid::parse_str(s.trim()).map_err(|_| {
            Problem::invalid_field("ids", format!("item {i} is not a song id (a UUID)"))
        })?;
        if seen.insert(id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

async fn batch_body(state: &AppState, ids: Vec<Uuid>) -> ApiResult<Response> {
    let views = state
        .cache
        .songs_or_load(&ids, |wanted| async move {
            let found = state.store.songs_by_ids(&wanted).await?;
            Ok(found.map(|songs| {
                songs
                    .into_iter()
                    .map(|song| match song {
                        BatchSong::Ready(v) => (v.id, to_bytes(&v)),
                        BatchSong::Unavailable(id) => (id, unavailable_marker(id)),
                    })
                    .collect::<HashMap<_, _>>()
            }))
        })
        .await?;
    Ok(json(batch_json(&ids, &views)))
}

/// What the batch memo keeps for a song that exists but is not ready: its
/// id as a JSON string (a ready song's view is a JSON object).
fn unavailable_marker(id: Uuid) -> Bytes {
    Bytes::from(format!("\"{}\"", id.hyphenated()))
}

/// `SongBatch` as JSON, put together from each song's kept view: the
/// ready songs in the order asked, then the ids of songs that do not
/// exist, then of those not ready.
fn batch_json(ids: &[Uuid], views: &[Option<Bytes>]) -> Bytes {
    let size: usize = views.iter().flatten().map(|v| v.len() + 1).sum();
    let mut out = Vec::with_capacity(size + 40 + ids.len() * 39);
    let is_marker = |v: &Bytes| v.first() == Some(&b'"');
    out.extend_from_slice(b"{\"songs\":[");
    let mut first = true;
    for view in views.iter().flatten().filter(|v| !is_marker(v)) {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        out.extend_from_slice(view);
    }
    out.extend_from_slice(b"],\"missing\":[");
    let mut first = true;
    for (id, _) in ids.iter().zip(views).filter(|(_, v)| v.is_none()) {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(
            id.hyphenated()
                .encode_lower(&mut Uuid::encode_buffer())
                .as_bytes(),
        );
        out.push(b'"');
    }
    out.extend_from_slice(b"],\"unavailable\":[");
    let mut first = true;
    for marker in views.iter().flatten().filter(|v| is_marker(v)) {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        out.extend_from_slice(marker);
    }
    out.extend_from_slice(b"]}");
    Bytes::from(out)
}

/// Many songs in one call (a playlist, a history page): the songs that
/// can be played, in the order asked (each id once), the ids that do not
/// exist (`missing`: gone for good), and the ids of songs that exist but
/// cannot be played now (`unavailable`: processing or rejected; keep them).
/// Each song's view is kept in memory until the next catalogue change, so
/// any list of songs looked up before costs no PostgreSQL read.
#[utoipa::path(get, path = "/api/song/songs", tag = "songs", params(BatchParams),
    responses(
        (status = 200, body = SongBatch),
        (status = 422, description = "`ids` empty, longer than 500, or not UUIDs"),
        (status = 503, description = "PostgreSQL unavailable; retry"),
    ))]
pub async fn batch(
    State(state): State<AppState>,
    Query(params): Query<BatchParams>,
) -> ApiResult<Response> {
    let raw: Vec<&str> = params
        .ids
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .collect();
    let ids = batch_ids(raw.into_iter())?;
    batch_body(&state, ids).await
}

/// The same lookup with the ids in a JSON body, for lists too long for a
/// URL (500 ids are ~18 kB; proxies refuse request lines over 8 kB).
#[utoipa::path(post, path = "/api/song/songs", tag = "songs", request_body = BatchRequest,
    responses(
        (status = 200, body = SongBatch),
        (status = 422, description = "`ids` empty, longer than 500, or not UUIDs"),
        (status = 503, description = "PostgreSQL unavailable; retry"),
    ))]
pub async fn batch_post(
    State(state): State<AppState>,
    Json(req): Json<BatchRequest>,
) -> ApiResult<Response> {
    let ids = batch_ids(req.ids.iter().map(String::as_str))?;
    batch_body(&state, ids).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SongView;
    use chrono::Utc;

    #[test]
    fn a_batch_put_together_from_kept_views_is_the_song_batch_as_serde_writes_it() {
        let view = |title: &str| SongView {
            id: Uuid::new_v4(),
            image_src: "https://cdn.example/c.jpg".into(),
            image_url: None,
            title: title.into(),
            artist: "A \"quoted\" artist".into(),
            duration: 61.5,
            track_number: 2,
            album_id: Uuid::new_v4(),
            created_at: Utc::now(),
            track_gain_db: Some(-6.25),
            album_gain_db: None,
        };
        let (a, b) = (view("a"), view("b"));
        let (ghost1, ghost2) = (Uuid::new_v4(), Uuid::new_v4());
        let (busy1, busy2) = (Uuid::new_v4(), Uuid::new_v4());
        let ids = [busy1, b.id, ghost1, a.id, busy2, ghost2];
        let views = [
            Some(unavailable_marker(busy1)),
            Some(to_bytes(&b)),
            None,
            Some(to_bytes(&a)),
            Some(unavailable_marker(busy2)),
            None,
        ];
        let expected = serde_json::to_vec(&SongBatch {
            songs: vec![b, a],
            missing: vec![ghost1, ghost2],
            unavailable: vec![busy1, busy2],
        })
        .unwrap();
        assert_eq!(&batch_json(&ids, &views)[..], &expected[..]);
        let empty = serde_json::to_vec(&SongBatch {
            songs: vec![],
            missing: vec![ghost1],
            unavailable: vec![],
        })
        .unwrap();
        assert_eq!(&batch_json(&[ghost1], &[None])[..], &empty[..]);
    }
}
