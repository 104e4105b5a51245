//! What may be uploaded: the allowed media types, their size caps, and the
//! object keys they are stored under (CONTRACTS §4).

use uuid::Uuid;

pub const MIB: i64 = 1024 * 1024;
pub const COVER_MAX_BYTES: i64 = 10 * MIB;
pub const AUDIO_MAX_BYTES: i64 = 500 * MIB;

/// The two kinds of object the catalogue references. Stored (the
/// `upload_ledger.kind` column) as the request's `type` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text")]
pub enum MediaKind {
    /// Album covers and song artwork, under `thumbnails/`.
    #[sqlx(rename = "thumbnail")]
    Cover,
    /// Song audio, under `songs/`.
    #[sqlx(rename = "song")]
    Audio,
}

impl MediaKind {
    /// The request's `type` value.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "thumbnail" => Some(Self::Cover),
            "song" => Some(Self::Audio),
            _ => None,
        }
    }

    pub fn prefix(self) -> &'static str {
        match self {
            Self::Cover => "thumbnails/",
            Self::Audio => "songs/",
        }
    }

    pub fn max_bytes(self) -> i64 {
        match self {
            Self::Cover => COVER_MAX_BYTES,
            Self::Audio => AUDIO_MAX_BYTES,
        }
    }

    pub fn allowed_types(self) -> &'static str {
        match self {
            Self::Cover => "image/jpeg, image/png or image/webp",
            Self::Audio => "audio/mpeg, audio/flac, audio/ogg, audio/mp4 or audio/wav",
        }
    }

    /// The type the seed signed for `{type}`-only requests.
    pub fn default_content_type(self) -> &'static str {
        match self {
            Self::Cover => "image/jpeg",
            Self::Audio => "audio/mpeg",
        }
    }

    /// The file extension for an allowed content type of this kind.
    pub fn extension(self, content_type: &str) -> Option<&'static str> {
        let ext = match (self, content_type) {
            (Self::Cover, "image/jpeg") => "jpg",
            (Self::Cover, "image/png") => "png",
            (Self::Cover, "image/webp") => "webp",
            (Self::Audio, "audio/mpeg") => "mp3",
            (Self::Audio, "audio/flac" | "audio/x-flac") => "flac",
            (Self::Audio, "audio/ogg") => "ogg",
            (Self::Audio, "audio/mp4") => "m4a",
            (Self::Audio, "audio/wav" | "audio/x-wav" | "audio/wave") => "wav",
            _ => return None,
        };
        Some(ext)
    }

    /// A fresh key `thumbnails/<uuid>.<ext>` / `songs/<uuid>.<ext>`.
    pub fn new_key(self, ext: &str) -> String {
        format!("{}{}.{ext}", self.prefix(), Uuid::new_v4())
    }

    /// Checks that `key` has the shape this service hands out for this kind
    /// and returns its extension. Anything else (another prefix, `..`, a
    /// foreign name) is refused before S3 is ever asked.
    pub fn check_key(self, key: &str) -> Result<&str, String> {
        let rest = key
            .strip_prefix(self.prefix())
            .ok_or_else(|| format!("must start with {:?}", self.prefix()))?;
        let (stem, ext) = rest
            .rsplit_once('.')
            .ok_or_else(|| "must be a key returned by /upload-url".to_owned())?;
        if Uuid::try_parse(stem).is_err()
            || ext.is_empty()
            || !ext.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err("must be a key returned by /upload-url".to_owned());
        }
        Ok(ext)
    }
}

/// `Image/PNG; charset=x` → `image/png`.
pub fn normalize_content_type(raw: &str) -> String {
    raw.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_map_to_extensions_per_kind() {
        assert_eq!(MediaKind::Cover.extension("image/webp"), Some("webp"));
        assert_eq!(MediaKind::Audio.extension("audio/x-flac"), Some("flac"));
        assert_eq!(MediaKind::Audio.extension("audio/wave"), Some("wav"));
        assert_eq!(
            MediaKind::Audio.extension("image/png"),
            None,
            "a cover is not audio"
        );
        assert_eq!(MediaKind::Cover.extension("audio/mpeg"), None);
        assert_eq!(
            MediaKind::Cover.extension("image/svg+xml"),
            None,
            "svg can carry scripts"
        );
        assert_eq!(MediaKind::parse("song"), Some(MediaKind::Audio));
        assert_eq!(MediaKind::parse("Song"), None);
    }

    #[test]
    fn keys_are_generated_and_checked() {
        let key = MediaKind::Audio.new_key("mp3");
        assert!(key.starts_with("songs/") && key.ends_with(".mp3"), "{key}");
        assert_eq!(MediaKind::Audio.check_key(&key), Ok("mp3"));
        assert!(MediaKind::Cover
            .check_key(&key)
            .unwrap_err()
            .contains("thumbnails/"));
        for bad in [
            "songs/../thumbnails/x.jpg",
            "songs/abc.mp3",
            "songs/",
            &format!("songs/{}", Uuid::new_v4()),
            &format!("songs/{}.", Uuid::new_v4()),
            &format!("songs/{}.mp3/x", Uuid::new_v4()),
        ] {
            assert!(MediaKind::Audio.check_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn content_types_are_normalized() {
        assert_eq!(normalize_content_type(" Image/PNG ; q=1"), "image/png");
    }
}
