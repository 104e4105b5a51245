//! The one classifier of database errors, so handlers and stores use `?`:
//! a database that cannot be reached (or asks for a retry) is a 503 with
//! `Retry-After`, a unique-key clash is a 409, anything else is a 500. A
//! service that knows better for a given constraint maps that case first,
//! in its one `From<…> for Problem` (admin-svc's `routes/mod.rs` turns the
//! `audio_key` clash and a missing album into 422s naming the field).

use super::{chain, Problem};

#[cfg(feature = "sqlx")]
impl From<sqlx::Error> for Problem {
    fn from(e: sqlx::Error) -> Self {
        let retryable = match &e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => match db.code().as_deref() {
                // A unique key already taken.
                Some("23505") => return Problem::conflict("already exists"),
                // Serialization failure, deadlock, too many connections,
                // a statement timeout (the database is too busy), shutdown
                // or start-up, a lost connection: try again.
                Some(code) => {
                    matches!(
                        code,
                        "40001" | "40P01" | "53300" | "57014" | "57P01" | "57P03"
                    ) || code.starts_with("08")
                }
                None => false,
            },
            _ => false,
        };
        if retryable {
            Problem::unavailable("postgres", chain(&e))
        } else {
            Problem::internal(chain(&e))
        }
    }
}

/// Whether a MongoDB error is a unique-key clash (code 11000), however the
/// driver reports it: one write, a command, a bulk insert, or only in the
/// server's message.
#[cfg(feature = "mongodb")]
pub fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    use mongodb::error::{ErrorKind, WriteFailure};
    const DUPLICATE_KEY: i32 = 11000;
    match &*e.kind {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code == DUPLICATE_KEY,
        ErrorKind::Command(c) => c.code == DUPLICATE_KEY,
        ErrorKind::InsertMany(m) => m
            .write_errors
            .as_ref()
            .is_some_and(|errs| errs.iter().any(|w| w.code == DUPLICATE_KEY)),
        _ => e.to_string().contains("E11000"),
    }
}

#[cfg(feature = "mongodb")]
impl From<mongodb::error::Error> for Problem {
    fn from(e: mongodb::error::Error) -> Self {
        use mongodb::error::{ErrorKind, TRANSIENT_TRANSACTION_ERROR};
        if is_duplicate_key(&e) {
            return Problem::conflict("already exists");
        }
        let retryable = matches!(
            &*e.kind,
            ErrorKind::ServerSelection { .. }
                | ErrorKind::Io(_)
                | ErrorKind::ConnectionPoolCleared { .. }
                | ErrorKind::DnsResolve { .. }
                | ErrorKind::Shutdown
        ) || e.contains_label(TRANSIENT_TRANSACTION_ERROR);
        if retryable {
            Problem::unavailable("mongodb", chain(&e))
        } else {
            Problem::internal(chain(&e))
        }
    }
}

#[cfg(all(test, feature = "sqlx"))]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn an_unreachable_database_is_a_503_and_a_bad_query_a_500() {
        let down = Problem::from(sqlx::Error::PoolTimedOut);
        assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(down.retry_after, Some(2));
        let io = Problem::from(sqlx::Error::Io(std::io::Error::other("reset")));
        assert_eq!(io.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(io.cause().unwrap().contains("reset"));
        let bad = Problem::from(sqlx::Error::RowNotFound);
        assert_eq!(bad.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            !bad.detail.contains("row"),
            "the body says nothing about internals"
        );
    }
}
