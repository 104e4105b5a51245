//! Keyset pagination of the catalogue's lists, once for every service:
//! the `?limit=&cursor=` query ([`PageParams`]), its checks (422s naming
//! `limit` or `cursor`), and the fetch-one-more-and-cut that tells whether a
//! next page exists ([`fetch_page`], [`split_page`]).
//!
//! Pagination is opt-in: without `limit` and `cursor` a list answers
//! everything, in the seed's shape.

use std::future::Future;

use cadenza_platform::Problem;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::Cursor;

/// Rows per page when only `cursor` is given.
pub const DEFAULT_PAGE: u32 = 50;
/// The largest `limit` accepted.
pub const MAX_PAGE: u32 = 100;

/// Keyset pagination parameters; without both, the seed's full list.
///
/// `limit` is read as an unsigned integer by the query extractor: a value
/// that is not one (`abc`, `-1`, empty) is refused there (400 naming
/// `limit`); [`PageParams::page`] refuses the out-of-range ones (422).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1–100 (default 50 when only `cursor` is given).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `nextCursor` from the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    /// `None` when the caller wants the unpaged seed shape; else the page
    /// size and the position to continue after. A `limit` outside
    /// 1..=[`MAX_PAGE`] is a 422 naming `limit`; a `cursor` this API did not
    /// hand out (the empty string included) is a 422 naming `cursor`.
    pub fn page(&self) -> Result<Option<(i64, Option<Cursor>)>, Problem> {
        if self.limit.is_none() && self.cursor.is_none() {
            return Ok(None);
        }
        let limit = self.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Problem::invalid_field(
                "limit",
                format!("must be between 1 and {MAX_PAGE}"),
            ));
        }
        let cursor = self
            .cursor
            .as_deref()
            .map(Cursor::decode)
            .transpose()
            .map_err(|e| Problem::invalid_field("cursor", e.to_string()))?;
        Ok(Some((i64::from(limit), cursor)))
    }
}

/// One page of `limit` rows: `fetch` is asked for `limit + 1` rows (the
/// extra one proves a next page and is dropped), and the cursor of the
/// page's last row comes back when there is more.
pub async fn fetch_page<T, E, Fut>(
    limit: i64,
    fetch: impl FnOnce(i64) -> Fut,
    cursor: impl Fn(&T) -> Cursor,
) -> Result<(Vec<T>, Option<String>), E>
where
    Fut: Future<Output = Result<Vec<T>, E>>,
{
    let rows = fetch(limit + 1).await?;
    Ok(split_page(rows, limit, cursor))
}

/// Rows were fetched with `limit + 1`: the extra one proves a next page.
/// Returns at most `limit` rows, and the encoded cursor of the last one
/// kept when a row was cut.
pub fn split_page<T>(
    mut rows: Vec<T>,
    limit: i64,
    cursor: impl Fn(&T) -> Cursor,
) -> (Vec<T>, Option<String>) {
    let limit = limit.max(0) as usize;
    if rows.len() > limit {
        rows.truncate(limit);
        let next = rows.last().map(|r| cursor(r).encode());
        (rows, next)
    } else {
        (rows, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use uuid::Uuid;

    fn params(limit: Option<u32>, cursor: Option<&str>) -> PageParams {
        PageParams {
            limit,
            cursor: cursor.map(Into::into),
        }
    }

    fn refused_field(p: PageParams) -> String {
        let problem = p.page().unwrap_err();
        assert_eq!(problem.status.as_u16(), 422);
        problem.errors[0].field.clone()
    }

    #[test]
    fn pagination_is_opt_in_and_bounded() {
        assert_eq!(params(None, None).page().unwrap(), None);
        assert_eq!(
            params(Some(1), None).page().unwrap(),
            Some((1, None)),
            "a limit alone is the first page"
        );
        assert_eq!(
            params(Some(MAX_PAGE), None).page().unwrap(),
            Some((i64::from(MAX_PAGE), None))
        );
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let cursor = Cursor::new(at, Uuid::new_v4());
        assert_eq!(
            params(None, Some(&cursor.encode())).page().unwrap(),
            Some((i64::from(DEFAULT_PAGE), Some(cursor))),
            "a cursor alone pages by the default size"
        );
        assert_eq!(refused_field(params(Some(0), None)), "limit");
        assert_eq!(refused_field(params(Some(MAX_PAGE + 1), None)), "limit");
        assert_eq!(refused_field(params(Some(5), Some("zzz"))), "cursor");
        assert_eq!(refused_field(params(None, Some(""))), "cursor");
    }

    #[test]
    fn pages_carry_a_cursor_only_when_more_rows_exist() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
        let (rows, next) = split_page(ids.clone(), 2, |id| Cursor::new(at, *id));
        assert_eq!(rows, ids[..2]);
        assert_eq!(Cursor::decode(&next.unwrap()).unwrap().id, ids[1]);
        let (rows, next) = split_page(ids.clone(), 3, |id| Cursor::new(at, *id));
        assert_eq!(rows.len(), 3);
        assert!(next.is_none());
    }

    #[tokio::test]
    async fn a_page_is_fetched_with_one_row_more_than_it_keeps() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let ids: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
        let asked = std::cell::Cell::new(0);
        let fetch = |n: i64| {
            asked.set(n);
            let rows = ids.iter().copied().take(n as usize).collect::<Vec<_>>();
            async move { Ok::<_, std::convert::Infallible>(rows) }
        };
        let (rows, next) = fetch_page(2, fetch, |id| Cursor::new(at, *id))
            .await
            .unwrap();
        assert_eq!(asked.get(), 3);
        assert_eq!(rows, ids[..2]);
        assert_eq!(Cursor::decode(&next.unwrap()).unwrap().id, ids[1]);
        let (rows, next) = fetch_page(
            5,
            |_| async { Ok::<_, ()>(ids.clone()) },
            |id| Cursor::new(at, *id),
        )
        .await
        .unwrap();
        assert_eq!(rows.len(), 5);
        assert!(next.is_none(), "no row beyond the last page");
    }
}
