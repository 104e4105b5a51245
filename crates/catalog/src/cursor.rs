//! Opaque keyset-pagination cursors: the `(created_at, id)` of the last row
//! of a page, base64url-encoded. Clients must treat them as opaque.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a cursor returned by this API")]
pub struct CursorError;

impl Cursor {
    pub fn new(created_at: DateTime<Utc>, id: Uuid) -> Self {
        Self { created_at, id }
    }

    /// PostgreSQL keeps microseconds, so that is the precision encoded.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{}.{}",
            self.created_at.timestamp_micros(),
            self.id.simple()
        ))
    }

    pub fn decode(raw: &str) -> Result<Self, CursorError> {
        if raw.len() > 128 {
            return Err(CursorError);
        }
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| CursorError)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| CursorError)?;
        let (micros, id) = text.split_once('.').ok_or(CursorError)?;
        let micros: i64 = micros.parse().map_err(|_| CursorError)?;
        let created_at = DateTime::from_timestamp_micros(micros).ok_or(CursorError)?;
        let id = Uuid::try_parse(id).map_err(|_| CursorError)?;
        Ok(Self { created_at, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_microsecond_precision() {
        let c = Cursor::new(
            DateTime::from_timestamp(1_800_000_000, 654_321_000).unwrap(),
            Uuid::new_v4(),
        );
        assert_eq!(Cursor::decode(&c.encode()), Ok(c));
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "!!!", "bm90LWEtY3Vyc29y", &"A".repeat(400)] {
            assert_eq!(Cursor::decode(bad), Err(CursorError), "{bad}");
        }
        let no_uuid = URL_SAFE_NO_PAD.encode("123.nope");
        assert_eq!(Cursor::decode(&no_uuid), Err(CursorError));
    }
}
