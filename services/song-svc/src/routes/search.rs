//! `/api/song/search`: typo-tolerant search over songs and albums, its
//! input limits, its per-address rate limit and its short-lived cache.

use axum::extract::State;
use axum::response::Response;
use cadenza_platform::client_ip::ClientIp;
use cadenza_platform::extract::Query;
use cadenza_platform::{ApiResult, Problem};
use serde::Deserialize;
use utoipa::IntoParams;

use super::json;
use crate::app::AppState;
use crate::store::{to_bytes, SearchBody};

pub const MAX_QUERY_CHARS: usize = 100;
pub const MAX_SEARCH_RESULTS: u32 = 50;
pub const DEFAULT_SEARCH_RESULTS: u32 = 20;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// 1–100 characters (after trimming), no control characters.
    #[param(min_length = 1, max_length = 100)]
    pub q: String,
    /// 1–50 results per kind (default 20).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u32>,
}

/// Typo-tolerant search across song titles, artists and album names.
#[utoipa::path(get, path = "/api/song/search", tag = "search", params(SearchParams),
    responses(
        (status = 200, body = SearchBody),
        (status = 400, description = "`q` missing"),
        (status = 422, description = "`q` empty or longer than 100 characters, or bad `limit`"),
        (status = 429, description = "Too many searches from this client address (`Retry-After` says when to retry)"),
        (status = 503, description = "PostgreSQL unavailable, or the search ran past its time limit"),
    ))]
pub async fn search(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Query(params): Query<SearchParams>,
) -> ApiResult<Response> {
    let q = params.q.trim();
    let chars = q.chars().count();
    if chars == 0 || chars > MAX_QUERY_CHARS {
        return Err(Problem::invalid_field(
            "q",
            format!("must be 1 to {MAX_QUERY_CHARS} characters"),
        ));
    }
    if q.chars().any(char::is_control) {
        return Err(Problem::invalid_field(
            "q",
            "must not contain control characters",
        ));
    }
    let limit = params.limit.unwrap_or(DEFAULT_SEARCH_RESULTS);
    if !(1..=MAX_SEARCH_RESULTS).contains(&limit) {
        return Err(Problem::invalid_field(
            "limit",
            format!("must be between 1 and {MAX_SEARCH_RESULTS}"),
        ));
    }
    let loader = state.clone();
    let query = q.to_lowercase();
    let key = format!("{limit}:{query}");
    let (limiter, rule) = (state.limiter.clone(), state.search_per_ip);
    let bytes = state
        .cache
        .search_or_load(&key, || async move {
            // Only searches that reach PostgreSQL count: a popular query
            // answered from memory costs nothing, a scan of fresh queries
            // from one address is cut off.
            limiter.hit_ip("search:ip", ip, rule).await?;
            let body = loader.store.search(&query, limit as i64).await?;
            Ok(body.map(|b| to_bytes(&b)))
        })
        .await?;
    Ok(json(bytes))
}
