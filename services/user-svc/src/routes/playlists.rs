//! A listener's playlists (issue 19).
//!
//! Private by default; a shared playlist can be viewed (and played) by any
//! signed-in listener who has its link, and changed only by its owner.
//! Every answer about one playlist carries its `ETag` (`"r<revision>"`).
//! Renaming, moving or removing an entry and deleting the playlist require
//! `If-Match` with that tag (428 without it, 412 when the playlist changed
//! since): two tabs cannot silently overwrite each other. Adding songs
//! needs no tag (an add never undoes another change) but honours one.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cadenza_auth::{AuthUser, Claims};
use cadenza_platform::extract::{Json, Path};
use cadenza_platform::{FieldError, Problem};
use mongodb::bson::doc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::store;
use crate::store::playlists::{
    EntryDoc, Place, PlaylistDoc, PlaylistError, MAX_ENTRIES, MAX_PLAYLISTS,
};

/// Songs one request may add.
pub const MAX_ADD: usize = 500;
const MAX_NAME: usize = 100;
const MAX_DESCRIPTION: usize = 300;

type Answer = Result<Response, Response>;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Playlist {
    pub id: String,
    pub name: String,
    pub description: String,
    pub shared: bool,
    /// Whether the caller owns it (and may change it).
    pub owned: bool,
    pub entry_count: i64,
    /// Changes with every edit; the `ETag` is `"r<revision>"`.
    pub revision: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl Playlist {
    fn of(p: &PlaylistDoc, caller: &str) -> Self {
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            shared: p.shared,
            owned: p.owner_id == caller,
            entry_count: p.entries,
            revision: p.revision,
            created_at: store::rfc3339(p.created_at),
            updated_at: store::rfc3339(p.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// The entry's id (moves and removals name it: a song may be in a
    /// playlist twice).
    pub entry_id: String,
    pub song_id: String,
    pub added_at: String,
}

impl From<&EntryDoc> for Entry {
    fn from(e: &EntryDoc) -> Self {
        Self {
            entry_id: e.id.clone(),
            song_id: e.song_id.clone(),
            added_at: store::rfc3339(e.added_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaylistList {
    pub playlists: Vec<Playlist>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaylistBody {
    pub playlist: Playlist,
    /// In play order. Song details: `POST /api/song/songs` with the ids.
    pub entries: Vec<Entry>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaylistChanged {
    pub playlist: Playlist,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntriesAdded {
    pub playlist: Playlist,
    pub added: Vec<Entry>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePlaylist {
    pub name: String,
    pub description: Option<String>,
    pub shared: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePlaylist {
    pub name: Option<String>,
    pub description: Option<String>,
    pub shared: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AddEntries {
    /// 1–500 song ids, added in this order.
    pub song_ids: Vec<String>,
    /// Insert before this entry; at the end without it.
    pub before: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveEntry {
    /// Move before this entry; `null` moves it to the end.
    pub before: Option<String>,
}

fn etag(revision: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"r{revision}\"")).expect("ASCII")
}

/// 200 with the playlist as a change left it, and its new ETag.
fn changed(p: &PlaylistDoc, claims: &Claims) -> Response {
    with_tag(
        StatusCode::OK,
        p.revision,
        PlaylistChanged {
            playlist: Playlist::of(p, &claims.sub),
        },
    )
}

fn with_tag(status: StatusCode, revision: i64, body: impl Serialize) -> Response {
    let mut res = (status, axum::Json(body)).into_response();
    let h = res.headers_mut();
    h.insert(header::ETAG, etag(revision));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    res
}

/// The revision `If-Match` names: `None` without the header, `Some(None)`
/// for `*` (any revision), `Some(Some(r))` for `"r<r>"`. Anything else
/// matches no revision of ours (a 412, as RFC 9110 says).
fn if_match(headers: &HeaderMap) -> Option<Option<i64>> {
    let raw = headers.get(header::IF_MATCH)?.to_str().unwrap_or("");
    let raw = raw.trim();
    if raw == "*" {
        return Some(None);
    }
    let rev = raw.split(',').map(str::trim).find_map(|t| {
        t.strip_prefix("\"r")?
            .strip_suffix('"')?
            .parse::<i64>()
            .ok()
    });
    Some(Some(rev.unwrap_or(-1)))
}

/// The revision a change must apply to: `If-Match` is required (428
/// without it) when `needed`, else honoured when sent.
fn expected_revision(headers: &HeaderMap, needed: bool) -> Result<Option<i64>, Box<Problem>> {
    match if_match(headers) {
        Some(expect) => Ok(expect),
        None if !needed => Ok(None),
        None => Err(Box::new(Problem::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition-required",
            "Precondition Required",
            "send If-Match with the playlist's ETag, so a change made meanwhile (another tab) is not overwritten",
        ))),
    }
}

/// The start of every change to one playlist: a live session, the write
/// limit, `If-Match` (see [`expected_revision`]) and the playlist's id.
async fn begin_change(
    state: &AppState,
    claims: &Claims,
    headers: &HeaderMap,
    id: &str,
    needs_tag: bool,
) -> Result<(String, Option<i64>), Response> {
    writer(state, claims).await?;
    let id = uuid_like(id).ok_or_else(|| failed(PlaylistError::NotFound))?;
    let expect = match expected_revision(headers, needs_tag) {
        Ok(expect) => expect,
        Err(missing_tag) => {
            // Somebody else's playlist is a 404 or 403 with or without a
            // tag: say that, not "send If-Match" (which would not help).
            let p = state
                .store
                .playlist(&id)
                .await
                .map_err(|e| Problem::from(e).into_response())?;
            return Err(match p {
                None => failed(PlaylistError::NotFound),
                Some(p) if p.owner_id != claims.sub && p.shared => failed(PlaylistError::NotOwner),
                Some(p) if p.owner_id != claims.sub => failed(PlaylistError::NotFound),
                Some(_) => missing_tag.into_response(),
            });
        }
    };
    Ok((id, expect))
}

/// A playlist change's failure as the response (so handlers use `?`).
impl From<PlaylistError> for Response {
    fn from(e: PlaylistError) -> Self {
        failed(e)
    }
}

fn failed(e: PlaylistError) -> Response {
    match e {
        PlaylistError::NotFound => Problem::not_found("no such playlist").into_response(),
        PlaylistError::NotOwner => {
            Problem::forbidden("only its owner can change a playlist").into_response()
        }
        PlaylistError::NoSuchEntry => {
            Problem::not_found("no such entry in this playlist").into_response()
        }
        PlaylistError::Stale { current } => {
            let mut res = Problem::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                "Precondition Failed",
                format!("the playlist changed since you read it (now revision {current}); reload it and try again"),
            )
            .into_response();
            res.headers_mut().insert(header::ETAG, etag(current));
            res
        }
        PlaylistError::Full { would_have } => Problem::invalid_field(
            "songIds",
            format!("a playlist holds at most {MAX_ENTRIES} songs; this would make {would_have}"),
        )
        .into_response(),
        PlaylistError::TooMany => Problem::invalid_field(
            "name",
            format!("you have {MAX_PLAYLISTS} playlists, the most one listener may have"),
        )
        .into_response(),
        PlaylistError::Db(e) => Problem::from(e).into_response(),
    }
}

fn text(
    field: &str,
    raw: &str,
    max: usize,
    allow_empty: bool,
    errors: &mut Vec<FieldError>,
) -> String {
    let v = raw.trim();
    if v.is_empty() && !allow_empty {
        errors.push(FieldError::new(field, "must not be empty"));
    } else if v.chars().count() > max {
        errors.push(FieldError::new(field, format!("at most {max} characters")));
    } else if v.chars().any(|c| c.is_control() && c != '\n') {
        errors.push(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    v.to_owned()
}

/// Playlist and entry ids are UUIDs; anything else is a 404 (never a query
/// with an odd value).
fn bad_before() -> Response {
    Problem::invalid_field(
        "before",
        "must be an entry id of this playlist (a UUID) or null",
    )
    .into_response()
}

fn uuid_like(raw: &str) -> Option<String> {
    uuid::Uuid::parse_str(raw).ok().map(|u| u.to_string())
}

async fn limit_writes(state: &AppState, claims: &Claims) -> Result<(), Response> {
    state
        .limiter
        .hit(
            "playlist:write",
            &claims.sub,
            state.limits.playlist_writes_per_user,
        )
        .await
        .map_err(IntoResponse::into_response)
}

/// Checks the session and the write limit, the start of every change.
pub(crate) async fn writer(state: &AppState, claims: &Claims) -> Result<(), Response> {
    crate::routes::require_live_session(state, claims)
        .await
        .map_err(IntoResponse::into_response)?;
    limit_writes(state, claims).await
}

#[utoipa::path(get, path = "/api/user/playlists", operation_id = "list_playlists", tag = "playlists", security(("bearer" = [])),
    responses((status = 200, body = PlaylistList, description = "Yours, most recently changed first"), (status = 401)))]
pub async fn list(State(state): State<AppState>, AuthUser(claims): AuthUser) -> Answer {
    let lists = state
        .store
        .playlists_of(&claims.sub)
        .await
        .map_err(|e| Problem::from(e).into_response())?;
    let mut res = axum::Json(PlaylistList {
        playlists: lists.iter().map(|p| Playlist::of(p, &claims.sub)).collect(),
    })
    .into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(res)
}

#[utoipa::path(post, path = "/api/user/playlists", operation_id = "create_playlist", tag = "playlists", security(("bearer" = [])), request_body = CreatePlaylist,
    responses((status = 201, body = PlaylistChanged, headers(("ETag" = String))), (status = 401), (status = 422, description = "bad `name` or `description`, or 1000 playlists already"), (status = 429)))]
pub async fn create(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    Json(req): Json<CreatePlaylist>,
) -> Answer {
    writer(&state, &claims).await?;
    let mut errors = vec![];
    let name = text("name", &req.name, MAX_NAME, false, &mut errors);
    let description = text(
        "description",
        req.description.as_deref().unwrap_or(""),
        MAX_DESCRIPTION,
        true,
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(Problem::invalid(errors).into_response());
    }
    let at = store::now();
    let p = PlaylistDoc {
        id: uuid::Uuid::new_v4().to_string(),
        owner_id: claims.sub.clone(),
        name,
        description,
        shared: req.shared.unwrap_or(false),
        revision: 1,
        entries: 0,
        created_at: at,
        updated_at: at,
    };
    state.store.create_playlist(&p).await?;
    let mut res = with_tag(
        StatusCode::CREATED,
        p.revision,
        PlaylistChanged {
            playlist: Playlist::of(&p, &claims.sub),
        },
    );
    if let Ok(v) = HeaderValue::from_str(&format!("/api/user/playlists/{}", p.id)) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

#[utoipa::path(get, path = "/api/user/playlists/{id}", operation_id = "get_playlist", tag = "playlists", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = PlaylistBody, headers(("ETag" = String))), (status = 304, description = "`If-None-Match` names the current revision"), (status = 401), (status = 404, description = "no such playlist, or another listener's private one")))]
pub async fn get(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let not_found = || Problem::not_found("no such playlist").into_response();
    let id = uuid_like(&id).ok_or_else(not_found)?;
    let Some((p, entries)) = state
        .store
        .playlist_with_entries(&id)
        .await
        .map_err(|e| Problem::from(e).into_response())?
    else {
        return Err(not_found());
    };
    // Another listener's private playlist does not exist, as far as they know.
    if p.owner_id != claims.sub && !p.shared {
        return Err(not_found());
    }
    let tag = etag(p.revision);
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == tag.as_bytes())
    {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        res.headers_mut().insert(header::ETAG, tag);
        return Ok(res);
    }
    Ok(with_tag(
        StatusCode::OK,
        p.revision,
        PlaylistBody {
            playlist: Playlist::of(&p, &claims.sub),
            entries: entries.iter().map(Entry::from).collect(),
        },
    ))
}

#[utoipa::path(patch, path = "/api/user/playlists/{id}", operation_id = "update_playlist", tag = "playlists", security(("bearer" = [])),
    params(("id" = String, Path), ("If-Match" = String, Header, description = "The playlist's ETag")), request_body = UpdatePlaylist,
    responses((status = 200, body = PlaylistChanged, headers(("ETag" = String))), (status = 401), (status = 404), (status = 412, description = "changed since it was read"), (status = 422), (status = 428, description = "no `If-Match`"), (status = 429)))]
pub async fn update(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(req): Json<UpdatePlaylist>,
) -> Answer {
    let (id, expect) = begin_change(&state, &claims, &headers, &id, true).await?;
    let mut errors = vec![];
    let mut set = doc! {};
    if let Some(name) = &req.name {
        set.insert("name", text("name", name, MAX_NAME, false, &mut errors));
    }
    if let Some(d) = &req.description {
        set.insert(
            "description",
            text("description", d, MAX_DESCRIPTION, true, &mut errors),
        );
    }
    if let Some(shared) = req.shared {
        set.insert("shared", shared);
    }
    if set.is_empty() && errors.is_empty() {
        errors.push(FieldError::new(
            "body",
            "name, description or shared is required",
        ));
    }
    if !errors.is_empty() {
        return Err(Problem::invalid(errors).into_response());
    }
    let p = state
        .store
        .update_playlist(&id, &claims.sub, expect, set)
        .await?;
    Ok(changed(&p, &claims))
}

#[utoipa::path(delete, path = "/api/user/playlists/{id}", operation_id = "delete_playlist", tag = "playlists", security(("bearer" = [])),
    params(("id" = String, Path), ("If-Match" = String, Header, description = "The playlist's ETag")),
    responses((status = 204), (status = 401), (status = 404), (status = 412), (status = 428), (status = 429)))]
pub async fn delete(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let (id, expect) = begin_change(&state, &claims, &headers, &id, true).await?;
    state
        .store
        .delete_playlist(&id, &claims.sub, expect)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `songIds` of a request: 1 to `max` ids, each read by `parse` (trimmed
/// first), or a 422 naming `songIds` and the first bad item.
pub(crate) fn song_ids(
    raw: &[String],
    max: usize,
    what: &str,
    parse: impl Fn(&str) -> Option<String>,
) -> Result<Vec<String>, Problem> {
    if raw.is_empty() || raw.len() > max {
        return Err(Problem::invalid_field(
            "songIds",
            format!("between 1 and {max} song ids per request"),
        ));
    }
    raw.iter()
        .enumerate()
        .map(|(i, id)| {
            parse(id.trim())
                .ok_or_else(|| Problem::invalid_field("songIds", format!("item {i} is not {what}")))
        })
        .collect()
}

#[utoipa::path(post, path = "/api/user/playlists/{id}/entries", operation_id = "add_playlist_entries", tag = "playlists", security(("bearer" = [])),
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "Optional: add only if the playlist is unchanged")), request_body = AddEntries,
    responses((status = 201, body = EntriesAdded, headers(("ETag" = String))), (status = 401), (status = 404, description = "no such playlist or `before` entry"), (status = 412), (status = 422, description = "bad `songIds`, or the playlist would pass 10 000 songs"), (status = 429)))]
pub async fn add(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(req): Json<AddEntries>,
) -> Answer {
    let (id, expect) = begin_change(&state, &claims, &headers, &id, false).await?;
    // Catalogue ids are UUIDs; the canonical form, so that one song is one
    // id everywhere (song-svc's lookup refuses anything else).
    let songs = song_ids(&req.song_ids, MAX_ADD, "a song id (a UUID)", uuid_like)
        .map_err(IntoResponse::into_response)?;
    let before = match &req.before {
        Some(b) => Some(uuid_like(b).ok_or_else(bad_before)?),
        None => None,
    };
    let place = before.as_deref().map_or(Place::End, Place::Before);
    let (p, added) = state
        .store
        .add_entries(&id, &claims.sub, expect, &songs, place)
        .await?;
    Ok(with_tag(
        StatusCode::CREATED,
        p.revision,
        EntriesAdded {
            playlist: Playlist::of(&p, &claims.sub),
            added: added.iter().map(Entry::from).collect(),
        },
    ))
}

#[utoipa::path(put, path = "/api/user/playlists/{id}/entries/{entryId}/position", operation_id = "move_playlist_entry", tag = "playlists", security(("bearer" = [])),
    params(("id" = String, Path), ("entryId" = String, Path), ("If-Match" = String, Header, description = "The playlist's ETag")), request_body = MoveEntry,
    responses((status = 200, body = PlaylistChanged, headers(("ETag" = String))), (status = 401), (status = 404), (status = 412), (status = 428), (status = 429)))]
pub async fn move_entry(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    Path((id, entry)): Path<(String, String)>,
    headers: HeaderMap,
    Json(req): Json<MoveEntry>,
) -> Answer {
    let (id, expect) = begin_change(&state, &claims, &headers, &id, true).await?;
    let entry = uuid_like(&entry).ok_or_else(|| failed(PlaylistError::NoSuchEntry))?;
    let before = match &req.before {
        Some(b) => Some(uuid_like(b).ok_or_else(bad_before)?),
        None => None,
    };
    if before.as_deref() == Some(entry.as_str()) {
        return Err(
            Problem::invalid_field("before", "an entry cannot go before itself").into_response(),
        );
    }
    let place = before.as_deref().map_or(Place::End, Place::Before);
    let (p, _pos) = state
        .store
        .move_entry(&id, &claims.sub, expect, &entry, place)
        .await?;
    Ok(changed(&p, &claims))
}

#[utoipa::path(delete, path = "/api/user/playlists/{id}/entries/{entryId}", operation_id = "remove_playlist_entry", tag = "playlists", security(("bearer" = [])),
    params(("id" = String, Path), ("entryId" = String, Path), ("If-Match" = String, Header, description = "The playlist's ETag")),
    responses((status = 200, body = PlaylistChanged, headers(("ETag" = String))), (status = 401), (status = 404), (status = 412), (status = 428), (status = 429)))]
pub async fn remove(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    Path((id, entry)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let (id, expect) = begin_change(&state, &claims, &headers, &id, true).await?;
    let entry = uuid_like(&entry).ok_or_else(|| failed(PlaylistError::NoSuchEntry))?;
    let p = state
        .store
        .remove_entry(&id, &claims.sub, expect, &entry)
        .await?;
    Ok(changed(&p, &claims))
}
