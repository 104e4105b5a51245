//! Listening history and trending (issue 19).
//!
//! The player reports a play once a song has played for 30 s or half its
//! length, whichever comes first (the scrobbling rule), with an id of its
//! own for that playback: a report repeated for one playback counts once.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use cadenza_auth::AuthUser;
use cadenza_platform::extract::{Json, Query};
use cadenza_platform::{ApiResult, Problem};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::store;

/// A play counts after this long, or half the song if that is shorter.
pub const PLAY_THRESHOLD_SECS: f64 = 30.0;
pub const MAX_HISTORY: u32 = 100;
pub const TRENDING_WINDOW: Duration = Duration::from_secs(7 * 86_400);
/// Trending is recomputed when older than this.
pub const TRENDING_MAX_AGE: Duration = Duration::from_secs(60);
pub const TRENDING_SIZE: i64 = 50;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlayReport {
    pub song_id: String,
    /// The player's id for this playback (a UUID): a report repeated for
    /// one playback counts once.
    pub playback_id: String,
    /// How long it has played, in seconds.
    pub played_seconds: f64,
    /// The song's length, in seconds.
    pub duration_seconds: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlayCounted {
    /// False when this playback had been counted already.
    pub counted: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Play {
    pub song_id: String,
    pub played_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    /// Newest first.
    pub plays: Vec<Play>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SongPlays {
    pub song_id: String,
    pub plays: i64,
    pub last_played_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TopSongs {
    /// Most played first.
    pub songs: Vec<SongPlays>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrendingSong {
    pub song_id: String,
    pub plays: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Trending {
    /// Most played by everyone in the window, most first.
    pub songs: Vec<TrendingSong>,
    /// The window's start.
    pub since: String,
    pub computed_at: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct Limit {
    /// 1 to 100 (default 100).
    pub limit: Option<u32>,
}

fn limit(l: &Limit) -> Result<i64, Problem> {
    let n = l.limit.unwrap_or(MAX_HISTORY);
    if (1..=MAX_HISTORY).contains(&n) {
        Ok(i64::from(n))
    } else {
        Err(Problem::invalid_field(
            "limit",
            format!("must be between 1 and {MAX_HISTORY}"),
        ))
    }
}

#[utoipa::path(post, path = "/api/user/plays", operation_id = "report_play", tag = "history", security(("bearer" = [])), request_body = PlayReport,
    responses((status = 201, body = PlayCounted, description = "Counted"), (status = 200, body = PlayCounted, description = "This playback was counted already"),
        (status = 401), (status = 422, description = "bad ids, or played for less than 30 s and less than half the song"), (status = 429)))]
pub async fn report(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    Json(req): Json<PlayReport>,
) -> ApiResult<Response> {
    crate::routes::require_live_session(&state, &claims).await?;
    state
        .limiter
        .hit("plays", &claims.sub, state.limits.plays_per_user)
        .await?;
    let song = uuid::Uuid::parse_str(req.song_id.trim())
        .map_err(|_| Problem::invalid_field("songId", "must be a song id (a UUID)"))?
        .to_string();
    let playback = uuid::Uuid::parse_str(&req.playback_id)
        .map_err(|_| Problem::invalid_field("playbackId", "must be a UUID"))?;
    if !req.duration_seconds.is_finite() || req.duration_seconds <= 0.0 {
        return Err(Problem::invalid_field(
            "durationSeconds",
            "must be a positive number of seconds",
        ));
    }
    let needed = PLAY_THRESHOLD_SECS.min(req.duration_seconds / 2.0);
    if !req.played_seconds.is_finite() || req.played_seconds < needed {
        return Err(Problem::invalid_field(
            "playedSeconds",
            format!(
                "a play counts after {PLAY_THRESHOLD_SECS} s or half the song ({needed:.1} s here)"
            ),
        ));
    }
    let counted = state
        .store
        .record_play(&claims.sub, &playback.to_string(), &song, state.clock.now())
        .await?;
    let status = if counted {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(PlayCounted { counted })).into_response())
}

#[utoipa::path(get, path = "/api/user/history", operation_id = "recently_played", tag = "history", security(("bearer" = [])), params(Limit),
    responses((status = 200, body = History), (status = 401), (status = 422)))]
pub async fn recent(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    Query(l): Query<Limit>,
) -> ApiResult<axum::Json<History>> {
    let plays = state.store.recent_plays(&claims.sub, limit(&l)?).await?;
    Ok(axum::Json(History {
        plays: plays
            .into_iter()
            .map(|p| Play {
                song_id: p.song_id,
                played_at: store::rfc3339(p.at),
            })
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/user/history/top", operation_id = "most_played", tag = "history", security(("bearer" = [])), params(Limit),
    responses((status = 200, body = TopSongs), (status = 401), (status = 422)))]
pub async fn top(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    Query(l): Query<Limit>,
) -> ApiResult<axum::Json<TopSongs>> {
    let counts = state.store.play_counts_of(&claims.sub, limit(&l)?).await?;
    Ok(axum::Json(TopSongs {
        songs: counts
            .into_iter()
            .map(|c| SongPlays {
                song_id: c.song_id,
                plays: c.count,
                last_played_at: store::rfc3339(c.last_at),
            })
            .collect(),
    }))
}

/// The trending list, recomputed at most once a minute per replica (one
/// aggregation at a time: concurrent requests wait for it).
#[derive(Default)]
pub struct TrendingCache {
    kept: tokio::sync::Mutex<Kept>,
    /// Aggregations run (for tests and the metric).
    computations: std::sync::atomic::AtomicU64,
}

#[derive(Default)]
struct Kept {
    /// The last answer and when it was computed (ms).
    body: Option<(i64, Bytes)>,
    /// When the last computation failed (ms): requests within
    /// [`TRENDING_RETRY_AFTER`] of it do not queue up for another.
    failed_at: Option<i64>,
}

/// After a failed computation, how long requests get the last answer (or a
/// 503) instead of another attempt.
pub const TRENDING_RETRY_AFTER: Duration = Duration::from_secs(5);

impl TrendingCache {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// How many aggregations this replica has run.
    pub fn computations(&self) -> u64 {
        self.computations.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn get(&self, state: &AppState) -> ApiResult<Bytes> {
        let mut kept = self.kept.lock().await;
        let now = state.clock.now();
        let ms = now.timestamp_millis();
        if let Some((at, body)) = &kept.body {
            if ms - at < TRENDING_MAX_AGE.as_millis() as i64 {
                return Ok(body.clone());
            }
        }
        if let Some(failed) = kept.failed_at {
            if ms - failed < TRENDING_RETRY_AFTER.as_millis() as i64 {
                // Stale beats nothing while the database recovers.
                return match &kept.body {
                    Some((_, body)) => Ok(body.clone()),
                    None => Err(Problem::unavailable(
                        "mongodb",
                        "trending could not be computed",
                    )),
                };
            }
        }
        let since = mongodb::bson::DateTime::from_millis(ms - TRENDING_WINDOW.as_millis() as i64);
        self.computations
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        metrics::counter!("user_trending_computations_total").increment(1);
        let songs = match state.store.trending(since, TRENDING_SIZE).await {
            Ok(songs) => songs,
            Err(e) => {
                kept.failed_at = Some(ms);
                return match &kept.body {
                    Some((_, body)) => {
                        tracing::warn!(error = %e, "trending not recomputed; serving the last one");
                        Ok(body.clone())
                    }
                    None => Err(e.into()),
                };
            }
        };
        let body = Bytes::from(
            serde_json::to_vec(&Trending {
                songs: songs
                    .into_iter()
                    .map(|t| TrendingSong {
                        song_id: t.song_id,
                        plays: t.plays,
                    })
                    .collect(),
                since: store::rfc3339(since),
                computed_at: store::rfc3339(now),
            })
            .expect("serialises"),
        );
        kept.body = Some((ms, body.clone()));
        kept.failed_at = None;
        Ok(body)
    }
}

#[utoipa::path(get, path = "/api/user/trending", operation_id = "trending", tag = "history",
    responses((status = 200, body = Trending, description = "The 50 songs played most in the last 7 days, by everyone; at most a minute old")))]
pub async fn trending(State(state): State<AppState>) -> ApiResult<Response> {
    let body = state.trending.get(&state).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=60"),
            ),
        ],
        body,
    )
        .into_response())
}
