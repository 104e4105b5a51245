//! Compressed catalogue bodies (issue 16): a cached JSON body is compressed
//! once, with gzip and brotli, the first time a client that accepts one of
//! them asks for it; every later answer from that cache entry reuses the
//! result. Nothing is compressed per request: answers that are not cached
//! (pages, searches, reads while the cache is bypassed) go out as they are.

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

/// Smaller bodies are not worth a `Content-Encoding`.
pub const MIN_BYTES: usize = 1024;

/// The compressed forms of one cached body, made at most once.
#[derive(Default)]
pub struct Compressed {
    cell: OnceLock<Forms>,
}

struct Forms {
    gzip: Option<Bytes>,
    br: Option<Bytes>,
}

impl Compressed {
    fn forms(&self, identity: &Bytes) -> &Forms {
        self.cell.get_or_init(|| {
            metrics::counter!("songsvc_body_compressions_total").increment(1);
            let smaller = |b: Vec<u8>| (b.len() < identity.len()).then(|| Bytes::from(b));
            Forms {
                gzip: gzip(identity).ok().and_then(smaller),
                br: brotli(identity).ok().and_then(smaller),
            }
        })
    }
}

fn gzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(9));
    enc.write_all(body)?;
    enc.finish()
}

fn brotli(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 9,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &body[..], &mut out, &params)?;
    Ok(out)
}

/// A JSON body and, when it came from the cache, its compressed forms.
#[derive(Clone)]
pub struct Body {
    pub bytes: Bytes,
    pub compressed: Option<Arc<Compressed>>,
}

impl Body {
    pub fn plain(bytes: Bytes) -> Self {
        Self {
            bytes,
            compressed: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
    Identity,
}

/// The best coding `accept` (an `Accept-Encoding` value) allows: brotli,
/// then gzip, else identity. `q=0` refuses a coding; `*` stands for any
/// coding not named.
pub fn negotiate(accept: Option<&str>) -> Coding {
    let Some(accept) = accept else {
        return Coding::Identity;
    };
    let mut star = None;
    let (mut br, mut gz) = (None, None);
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .filter_map(|q| q.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        let ok = q > 0.0;
        let is = |coding: &str| name.eq_ignore_ascii_case(coding);
        if is("br") {
            br = Some(ok);
        } else if is("gzip") || is("x-gzip") {
            gz = Some(ok);
        } else if name == "*" {
            star = Some(ok);
        }
    }
    if br.or(star).unwrap_or(false) {
        Coding::Brotli
    } else if gz.or(star).unwrap_or(false) {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

/// The best coding the client accepts, read from `Accept-Encoding` alone
/// (axum's `HeaderMap` extractor would copy every header of the request).
pub struct Accepts(pub Coding);

impl<S: Send + Sync> FromRequestParts<S> for Accepts {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Accepts(negotiate(
            parts
                .headers
                .get(header::ACCEPT_ENCODING)
                .and_then(|v| v.to_str().ok()),
        )))
    }
}

/// The response for a JSON body: compressed when it came from the cache,
/// is large enough and the client accepts a coding; `Vary: Accept-Encoding`
/// on every answer of a route that may compress.
pub fn respond(body: Body, coding: Coding) -> Response {
    let vary = (header::VARY, HeaderValue::from_static("accept-encoding"));
    let json = (
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let (Some(compressed), true, false) = (
        &body.compressed,
        body.bytes.len() >= MIN_BYTES,
        coding == Coding::Identity,
    ) {
        let forms = compressed.forms(&body.bytes);
        let pick = match coding {
            Coding::Brotli => forms
                .br
                .clone()
                .map(|b| (b, "br"))
                .or_else(|| forms.gzip.clone().map(|b| (b, "gzip"))),
            _ => forms.gzip.clone().map(|b| (b, "gzip")),
        };
        if let Some((bytes, name)) = pick {
            return (
                [
                    json,
                    vary,
                    (header::CONTENT_ENCODING, HeaderValue::from_static(name)),
                ],
                bytes,
            )
                .into_response();
        }
    }
    ([json, vary], body.bytes).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_q_values_and_the_wildcard() {
        assert_eq!(negotiate(None), Coding::Identity);
        assert_eq!(negotiate(Some("gzip, deflate, br")), Coding::Brotli);
        assert_eq!(negotiate(Some("gzip")), Coding::Gzip);
        assert_eq!(negotiate(Some("br;q=0, gzip;q=0.5")), Coding::Gzip);
        assert_eq!(negotiate(Some("br;q=0, gzip;q=0")), Coding::Identity);
        assert_eq!(negotiate(Some("*")), Coding::Brotli);
        assert_eq!(negotiate(Some("*;q=0")), Coding::Identity);
        assert_eq!(negotiate(Some("identity")), Coding::Identity);
        assert_eq!(negotiate(Some("GZIP ; q=1")), Coding::Gzip);
    }

    #[test]
    fn forms_round_trip_and_are_made_once() {
        use std::io::Read;
        let body: Bytes = serde_json::to_vec(&vec!["a song title"; 500])
            .unwrap()
            .into();
        let c = Compressed::default();
        let f = c.forms(&body);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&f.gzip.as_ref().unwrap()[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &f.br.as_ref().unwrap()[..], &mut out).unwrap();
        assert_eq!(out, body);
        assert!(std::ptr::eq(c.forms(&body), f), "made once");
    }
}
