//! What the server learns from an audio file, rather than taking the
//! uploader's word for it (issue 20).
//!
//! [`analyse`] decodes the whole file once, in memory, and returns:
//! - the stream: container, codec, sample rate, channels, average bitrate
//!   and the exact duration, counted in decoded frames (encoder delay and
//!   padding removed where the container says how much: gapless);
//! - the tags: title, artist, album, track and disc number, year and the
//!   embedded front cover (lofty);
//! - the loudness per EBU R128: integrated loudness and true peak
//!   (ebur128), and the gain that brings the track to −14 LUFS;
//! - waveform peaks: [`PEAKS`] buckets of the largest absolute sample,
//!   0–255, for the seek bar.
//!
//! A file that does not decode, or decodes to no audio, is [`Rejected`]
//! with a reason a person can read. Limits (size, duration) are the
//! caller's [`Limits`]; they are checked before and while decoding, so a
//! bomb of a file costs at most the limit.
//!
//! [`album_gain`] combines the integrated loudness of an album's songs.

use std::io::Cursor;

use lofty::prelude::*;
use serde::Serialize;
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// The loudness every track is brought to (the common streaming reference).
pub const REFERENCE_LUFS: f64 = -14.0;
/// Waveform buckets for the seek bar.
pub const PEAKS: usize = 800;
/// Gains are kept within this many dB either way: a near-silent track is
/// not amplified into noise.
pub const MAX_GAIN_DB: f64 = 24.0;

/// The highest sample rate and channel count a song may have: beyond
/// them a file is refused before decoding (their cost grows with both).
pub const MAX_SAMPLE_RATE: u32 = 192_000;
pub const MAX_CHANNELS: usize = 8;
/// Audio within this many dB of full scale after its gain: gains never
/// push the true peak above −1 dBTP.
pub const PEAK_CEILING_DBTP: f64 = -1.0;

/// What a file may cost.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes of the object (checked before anything is decoded).
    pub max_bytes: usize,
    /// Seconds of audio (checked while decoding).
    pub max_seconds: f64,
    /// Wall time the analysis may take (checked per packet), so a file
    /// built to be slow stops at this, whatever it claims.
    pub max_wall: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 200 << 20,
            max_seconds: 2.0 * 3600.0,
            max_wall: std::time::Duration::from_secs(300),
        }
    }
}

/// Why a file is not a song.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("the file is {bytes} bytes, over the {limit}-byte limit")]
    TooLarge { bytes: usize, limit: usize },
    #[error("not an audio file this server can read: {0}")]
    NotAudio(String),
    /// Audio, in a codec or layout this server does not decode (HE-AAC,
    /// Opus, ALAC, more than [`MAX_CHANNELS`] channels, ...).
    #[error("audio this server cannot decode: {0}")]
    Unsupported(String),
    #[error("the audio does not decode: {0}")]
    Corrupt(String),
    #[error("the file holds no audio")]
    Empty,
    #[error("the audio is longer than {0} seconds")]
    TooLong(u64),
    #[error("the analysis took longer than {0} seconds")]
    TooSlow(u64),
}

impl Rejected {
    /// Whether the file is shown not to be audio at all (its object may be
    /// deleted). Audio that is only too large, too long, too slow or in an
    /// unsupported codec is kept: an admin may want it back.
    pub fn is_not_audio(&self) -> bool {
        matches!(
            self,
            Rejected::NotAudio(_) | Rejected::Corrupt(_) | Rejected::Empty
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stream {
    /// `mp3`, `aac`, `flac`, `vorbis`, `pcm`, ...
    pub codec: String,
    /// `mpeg`, `mp4`, `flac`, `ogg`, `wav`.
    pub container: String,
    pub sample_rate: u32,
    pub channels: u16,
    /// Decoded frames (samples per channel).
    pub frames: u64,
    /// `frames / sample_rate`.
    pub duration_seconds: f64,
    /// The file's bits per second of audio, on average.
    pub bitrate: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tags {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub track: Option<u32>,
    pub disc: Option<u32>,
    pub year: Option<u16>,
    #[serde(skip)]
    pub cover: Option<Cover>,
}

/// Embedded cover art (the front cover, else the first picture).
#[derive(Debug, Clone, PartialEq)]
pub struct Cover {
    pub mime: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Loudness {
    /// Integrated loudness, LUFS.
    pub integrated_lufs: f64,
    /// The highest true peak of any channel, dBTP.
    pub true_peak_dbtp: f64,
    /// Gain to [`REFERENCE_LUFS`], dB, within ±[`MAX_GAIN_DB`].
    pub track_gain_db: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Analysis {
    pub stream: Stream,
    pub tags: Tags,
    /// None for audio too short or too quiet to measure (under 400 ms, or
    /// all of it below the absolute gate).
    pub loudness: Option<Loudness>,
    /// [`PEAKS`] values, 0–255.
    pub peaks: Vec<u8>,
}

/// Decodes `bytes` (the whole object) and measures it. `extension` (e.g.
/// from the object's key) is a hint only: the content decides.
pub fn analyse(
    bytes: &[u8],
    extension: Option<&str>,
    limits: Limits,
) -> Result<Analysis, Rejected> {
    if bytes.len() > limits.max_bytes {
        return Err(Rejected::TooLarge {
            bytes: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    mp4::check_tables(bytes)?;
    // Decoders and tag readers are third-party code fed untrusted bytes: a
    // panic in them is a file that does not decode, not a crashed worker.
    std::panic::catch_unwind(|| {
        let stream_and_rest = decode(bytes, extension, limits)?;
        Ok(Analysis {
            tags: tags(bytes),
            ..stream_and_rest
        })
    })
    .unwrap_or_else(|_| Err(Rejected::Corrupt("the decoder failed on this file".into())))
}

/// The gain that brings an album to [`REFERENCE_LUFS`] as a whole, from
/// its songs' `(integrated loudness, true peak, duration)`: the songs' mean
/// energy, weighted by length (close to measuring the album as one
/// programme, and needing no audio), never lifting the album's highest
/// true peak above [`PEAK_CEILING_DBTP`]. None for no measurable song.
pub fn album_gain(songs: &[(f64, f64, f64)]) -> Option<f64> {
    let (mut energy, mut seconds, mut peak) = (0.0, 0.0, f64::NEG_INFINITY);
    for &(lufs, true_peak, duration) in songs {
        if lufs.is_finite() && duration.is_finite() && duration > 0.0 {
            energy += duration * 10f64.powf(lufs / 10.0);
            seconds += duration;
            if true_peak.is_finite() {
                peak = peak.max(true_peak);
            }
        }
    }
    (seconds > 0.0).then(|| {
        let to_reference = REFERENCE_LUFS - 10.0 * (energy / seconds).log10();
        clamp_gain(to_reference.min(PEAK_CEILING_DBTP - peak))
    })
}

/// The gain to [`REFERENCE_LUFS`], never lifting the true peak above
/// [`PEAK_CEILING_DBTP`] (a quiet track with loud peaks is raised less).
pub fn track_gain(integrated_lufs: f64, true_peak_dbtp: f64) -> f64 {
    clamp_gain((REFERENCE_LUFS - integrated_lufs).min(PEAK_CEILING_DBTP - true_peak_dbtp))
}

/// A sample rate and channel count this server decodes.
fn check_layout(rate: u32, channels: usize) -> Result<(), Rejected> {
    if rate > MAX_SAMPLE_RATE {
        return Err(Rejected::Unsupported(format!(
            "{rate} Hz (at most {MAX_SAMPLE_RATE})"
        )));
    }
    if channels > MAX_CHANNELS {
        return Err(Rejected::Unsupported(format!(
            "{channels} channels (at most {MAX_CHANNELS})"
        )));
    }
    Ok(())
}

fn clamp_gain(db: f64) -> f64 {
    db.clamp(-MAX_GAIN_DB, MAX_GAIN_DB)
}

fn decode(bytes: &[u8], extension: Option<&str>, limits: Limits) -> Result<Analysis, Rejected> {
    let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = extension {
        hint.with_extension(ext);
    }
    let format_opts = FormatOptions {
        enable_gapless: true,
        ..Default::default()
    };
    let container = container_of(bytes);
    let probed = symphonia::default::get_probe()
        .format(&hint, mss, &format_opts, &MetadataOptions::default())
        .map_err(|e| match container {
            // It says what it is, and then is not that: damaged.
            Some(c) => Rejected::Corrupt(format!("{c} file: {}", describe(&e))),
            None => Rejected::NotAudio(describe(&e)),
        })?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL && t.codec_params.sample_rate.is_some())
        .ok_or_else(|| Rejected::NotAudio("no audio track".into()))?;
    let track_id = track.id;
    let params = track.codec_params.clone();
    let codec = symphonia::default::get_codecs()
        .get_codec(params.codec)
        .map_or_else(|| "unknown".to_owned(), |d| d.short_name.to_owned());
    let mut decoder = symphonia::default::get_codecs()
        .make(&params, &DecoderOptions::default())
        .map_err(|e| Rejected::Unsupported(describe(&e)))?;
    let mut sample_rate = params.sample_rate.unwrap_or(0);
    let mut channels = params.channels.map_or(0, |c| c.count());
    check_layout(sample_rate, channels)?;
    let started = std::time::Instant::now();

    let mut meter: Option<ebur128::EbuR128> = None;
    let mut waveform = Waveform::new(sample_rate);
    let mut frames: u64 = 0;
    let mut buffer: Option<SampleBuffer<f32>> = None;
    let max_seconds = limits.max_seconds;
    let mut bad_packets = 0u32;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(SymError::ResetRequired) => break,
            Err(e) => {
                if frames == 0 {
                    return Err(Rejected::Corrupt(describe(&e)));
                }
                // A damaged tail: keep what decoded.
                break;
            }
        };
        if packet.track_id() != track_id {
            continue;
        }
        if started.elapsed() > limits.max_wall {
            return Err(Rejected::TooSlow(limits.max_wall.as_secs()));
        }
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            Err(SymError::Unsupported(what)) => return Err(Rejected::Unsupported(what.to_owned())),
            Err(SymError::DecodeError(_)) => {
                // One bad packet is skipped, as players do; a file that is
                // mostly bad packets is not audio.
                bad_packets += 1;
                if bad_packets > 16 && frames == 0 {
                    return Err(Rejected::Corrupt("no packet decodes".into()));
                }
                continue;
            }
            Err(e) => return Err(Rejected::Corrupt(describe(&e))),
        };
        let spec = *decoded.spec();
        let n = decoded.frames();
        if n == 0 {
            continue;
        }
        // The decoder's own layout is the truth (a container may say
        // another rate: HE-AAC, or a field too narrow for 96 kHz).
        if frames == 0 {
            sample_rate = spec.rate;
            channels = spec.channels.count();
            check_layout(sample_rate, channels)?;
            waveform = Waveform::new(sample_rate);
        } else if spec.rate != sample_rate || spec.channels.count() != channels {
            return Err(Rejected::Unsupported(
                "the audio changes rate or channels midway".into(),
            ));
        }
        let buf = match &mut buffer {
            Some(b) if b.capacity() >= n * spec.channels.count() => b,
            _ => buffer.insert(SampleBuffer::new(decoded.capacity() as u64, spec)),
        };
        buf.copy_interleaved_ref(decoded);
        let samples = buf.samples();
        let ch = spec.channels.count().max(1);
        if meter.is_none() {
            meter = ebur128::EbuR128::new(
                ch as u32,
                spec.rate,
                ebur128::Mode::I | ebur128::Mode::TRUE_PEAK,
            )
            .ok();
        }
        if let Some(m) = meter.as_mut() {
            let _ = m.add_frames_f32(samples);
        }
        waveform.add(samples, ch);
        frames += n as u64;
        if frames as f64 > max_seconds * f64::from(sample_rate) {
            return Err(Rejected::TooLong(max_seconds as u64));
        }
    }
    if frames == 0 || sample_rate == 0 {
        return Err(Rejected::Empty);
    }
    // MP4 keeps the AAC encoder's priming and padding in the stream and
    // says which part to play in an edit list (which symphonia does not
    // apply): that part is the song.
    if let Some(seconds) = mp4::edited_seconds(bytes) {
        let edited = (seconds * f64::from(sample_rate)).round() as u64;
        if edited > 0 && edited < frames {
            frames = edited;
        }
    }
    let duration_seconds = frames as f64 / f64::from(sample_rate);
    let loudness = meter.and_then(|m| {
        let integrated = m.loudness_global().ok().filter(|l| l.is_finite())?;
        let peak = (0..channels as u32)
            .filter_map(|c| m.true_peak(c).ok())
            .fold(0.0_f64, f64::max);
        Some(Loudness {
            integrated_lufs: integrated,
            true_peak_dbtp: 20.0 * peak.max(1e-10).log10(),
            track_gain_db: track_gain(integrated, 20.0 * peak.max(1e-10).log10()),
        })
    });
    Ok(Analysis {
        stream: Stream {
            codec,
            container: container.unwrap_or("mpeg").to_owned(),
            sample_rate,
            channels: channels as u16,
            frames,
            duration_seconds,
            bitrate: (bytes.len() as f64 * 8.0 / duration_seconds).round() as u32,
        },
        tags: Tags::default(),
        loudness,
        peaks: waveform.finish(),
    })
}

fn describe(e: &SymError) -> String {
    match e {
        SymError::Unsupported(what) => format!("unsupported {what}"),
        SymError::DecodeError(what) => (*what).to_owned(),
        SymError::IoError(e) => format!("unreadable ({e})"),
        SymError::SeekError(_) => "cannot seek".into(),
        SymError::LimitError(what) => format!("over a limit: {what}"),
        SymError::ResetRequired => "the stream changes format".into(),
    }
}

/// The container, from the file's own signature (None: none known; an
/// MPEG audio stream has no signature but its first frame's sync word).
fn container_of(bytes: &[u8]) -> Option<&'static str> {
    let sig = |at: usize, s: &[u8]| bytes.get(at..at + s.len()) == Some(s);
    if sig(0, b"fLaC") {
        Some("flac")
    } else if sig(0, b"OggS") {
        Some("ogg")
    } else if sig(4, b"ftyp") {
        Some("mp4")
    } else if sig(0, b"RIFF") && sig(8, b"WAVE") {
        Some("wav")
    } else if id3v2(bytes) || (bytes.len() > 1 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0) {
        Some("mpeg")
    } else {
        None
    }
}

mod mp4 {
    //! Just enough of ISO BMFF to read the audio track's edit list, and to
    //! refuse sample tables that claim more entries than they hold (the
    //! decoder would allocate for the claim first).

    fn boxes(mut data: &[u8]) -> impl Iterator<Item = (&[u8; 4], &[u8])> {
        std::iter::from_fn(move || {
            if data.len() < 8 {
                return None;
            }
            let size = u32::from_be_bytes(data[..4].try_into().ok()?) as u64;
            let kind: &[u8; 4] = data[4..8].try_into().ok()?;
            let (header, size) = match size {
                1 => (16, u64::from_be_bytes(data.get(8..16)?.try_into().ok()?)),
                0 => (8, data.len() as u64),
                n => (8, n),
            };
            let size = usize::try_from(size).ok()?;
            if size < header || size > data.len() {
                return None;
            }
            let body = &data[header..size];
            data = &data[size..];
            Some((kind, body))
        })
    }

    fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
        boxes(data).find(|(k, _)| *k == kind).map(|(_, b)| b)
    }

    fn be(data: &[u8], at: usize, len: usize) -> Option<u64> {
        let b = data.get(at..at + len)?;
        Some(b.iter().fold(0, |n, x| (n << 8) | u64::from(*x)))
    }

    /// Whether a track is sound (`mdia/hdlr` handler `soun`).
    fn is_sound(trak: &[u8]) -> bool {
        child(trak, b"mdia")
            .and_then(|m| child(m, b"hdlr"))
            .and_then(|h| h.get(8..12))
            == Some(b"soun")
    }

    /// Refuses sample tables whose entry counts do not fit in their boxes.
    pub(super) fn check_tables(file: &[u8]) -> Result<(), super::Rejected> {
        if file.get(4..8) != Some(b"ftyp") {
            return Ok(());
        }
        let Some(moov) = child(file, b"moov") else {
            return Ok(());
        };
        for (kind, trak) in boxes(moov) {
            if kind != b"trak" {
                continue;
            }
            let Some(stbl) = child(trak, b"mdia")
                .and_then(|m| child(m, b"minf"))
                .and_then(|m| child(m, b"stbl"))
            else {
                continue;
            };
            for (kind, body) in boxes(stbl) {
                // (offset of the entry count, bytes per entry)
                let (at, size) = match kind {
                    b"stts" | b"ctts" | b"co64" => (4, 8),
                    b"stsc" => (4, 12),
                    b"stco" => (4, 4),
                    // sample_size 0: one u32 per sample follows.
                    b"stsz" if be(body, 4, 4) == Some(0) => (8, 4),
                    _ => continue,
                };
                let count = be(body, at, 4).unwrap_or(u64::MAX);
                let room = body.len().saturating_sub(at + 4) as u64;
                if count.saturating_mul(size) > room {
                    return Err(super::Rejected::Corrupt(format!(
                        "mp4 file: its {} table claims {count} entries it does not hold",
                        String::from_utf8_lossy(kind)
                    )));
                }
            }
        }
        Ok(())
    }

    /// Seconds of the sound track's first edit (movie timescale), when the
    /// file is MP4 and has one.
    pub(super) fn edited_seconds(file: &[u8]) -> Option<f64> {
        if file.get(4..8) != Some(b"ftyp") {
            return None;
        }
        let moov = child(file, b"moov")?;
        let mvhd = child(moov, b"mvhd")?;
        let timescale = if mvhd.first()? == &1 {
            be(mvhd, 20, 4)?
        } else {
            be(mvhd, 12, 4)?
        };
        for (kind, trak) in boxes(moov) {
            if kind != b"trak" || !is_sound(trak) {
                continue;
            }
            let Some(elst) = child(trak, b"edts").and_then(|e| child(e, b"elst")) else {
                continue;
            };
            let version = *elst.first()?;
            let entries = be(elst, 4, 4)?;
            // Skip empty edits (media_time -1): a leading delay.
            let (width, mut at) = if version == 1 { (8, 8) } else { (4, 8) };
            for _ in 0..entries {
                let duration = be(elst, at, width)?;
                let media_time = be(elst, at + width, width)?;
                at += 2 * width + 4;
                let empty = if width == 8 {
                    media_time == u64::MAX
                } else {
                    media_time == u64::from(u32::MAX)
                };
                if !empty && timescale > 0 && duration > 0 {
                    return Some(duration as f64 / timescale as f64);
                }
            }
        }
        None
    }
}

/// An ID3v2 header: `ID3`, version 2-4, and a size of four 7-bit bytes.
fn id3v2(bytes: &[u8]) -> bool {
    bytes.len() >= 10
        && &bytes[..3] == b"ID3"
        && (2..=4).contains(&bytes[3])
        && bytes[6..10].iter().all(|b| b & 0x80 == 0)
}

/// Tags are a nicety: a file whose tags do not parse is still a song.
fn tags(bytes: &[u8]) -> Tags {
    let Ok(probe) = lofty::probe::Probe::new(Cursor::new(bytes)).guess_file_type() else {
        return Tags::default();
    };
    let Ok(file) = probe.read() else {
        return Tags::default();
    };
    let Some(tag) = file.primary_tag().or_else(|| file.first_tag()) else {
        return Tags::default();
    };
    let text = |v: Option<std::borrow::Cow<'_, str>>| {
        v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
    };
    let pictures = tag.pictures();
    let cover = pictures
        .iter()
        .find(|p| p.pic_type() == lofty::picture::PictureType::CoverFront)
        .or_else(|| pictures.first())
        .map(|p| Cover {
            mime: p
                .mime_type()
                .map_or("application/octet-stream", |m| m.as_str())
                .to_owned(),
            bytes: p.data().to_vec(),
        });
    Tags {
        title: text(tag.title()),
        artist: text(tag.artist()),
        album: text(tag.album()),
        track: tag.track(),
        disc: tag.disk(),
        year: tag.date().map(|d| d.year),
        cover,
    }
}

/// Peaks per 10 ms block while decoding (the length is not known before
/// the end), folded into [`PEAKS`] buckets at the end.
struct Waveform {
    block: usize,
    in_block: usize,
    current: f32,
    blocks: Vec<f32>,
}

impl Waveform {
    fn new(sample_rate: u32) -> Self {
        Self {
            block: (sample_rate as usize / 100).max(1),
            in_block: 0,
            current: 0.0,
            blocks: Vec::new(),
        }
    }

    fn add(&mut self, interleaved: &[f32], channels: usize) {
        for frame in interleaved.chunks(channels) {
            for s in frame {
                self.current = self.current.max(s.abs());
            }
            self.in_block += 1;
            if self.in_block == self.block {
                self.blocks.push(self.current);
                self.in_block = 0;
                self.current = 0.0;
            }
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.in_block > 0 {
            self.blocks.push(self.current);
        }
        let n = self.blocks.len();
        (0..PEAKS)
            .map(|i| {
                let (from, to) = (i * n / PEAKS, ((i + 1) * n / PEAKS).max(i * n / PEAKS + 1));
                let peak = self
                    .blocks
                    .get(from..to.min(n))
                    .map_or(0.0, |b| b.iter().copied().fold(0.0, f32::max));
                (peak.clamp(0.0, 1.0) * 255.0).round() as u8
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_album_gain_weights_songs_by_length() {
        // Two songs of equal length at -10 and -20 LUFS: mean energy.
        let g = album_gain(&[(-10.0, -3.0, 100.0), (-20.0, -3.0, 100.0)]).unwrap();
        let mean = 10.0 * ((10f64.powf(-1.0) + 10f64.powf(-2.0)) / 2.0).log10();
        assert!((g - (REFERENCE_LUFS - mean)).abs() < 1e-9);
        // A long loud song outweighs a short quiet one.
        let long_loud = album_gain(&[(-10.0, -3.0, 300.0), (-20.0, -3.0, 10.0)]).unwrap();
        assert!(long_loud < -3.5 && long_loud > -4.0, "{long_loud}");
        assert_eq!(album_gain(&[]), None);
        assert_eq!(album_gain(&[(f64::NEG_INFINITY, -3.0, 10.0)]), None);
        // Clamped.
        assert_eq!(album_gain(&[(-80.0, -60.0, 10.0)]), Some(MAX_GAIN_DB));
        // Quiet songs with a loud peak anywhere on the album: raised only
        // until that peak reaches the ceiling.
        let g = album_gain(&[(-30.0, -20.0, 100.0), (-30.0, -4.0, 100.0)]).unwrap();
        assert!((g - 3.0).abs() < 1e-9, "{g}");
    }

    #[test]
    fn a_gain_never_lifts_the_true_peak_past_the_ceiling() {
        // Quiet with headroom: all the way to the reference.
        assert!((track_gain(-24.0, -12.0) - 10.0).abs() < 1e-9);
        // Quiet with loud peaks: only up to -1 dBTP.
        assert!((track_gain(-30.0, -1.0) - 0.0).abs() < 1e-9);
        assert!((track_gain(-30.0, -6.0) - 5.0).abs() < 1e-9);
        // Loud: turned down as usual.
        assert!((track_gain(-8.0, 0.5) + 6.0).abs() < 1e-9);
        assert_eq!(album_gain(&[(-10.0, -3.0, f64::INFINITY)]), None);
    }

    #[test]
    fn a_waveform_has_its_buckets_whatever_the_length() {
        for seconds in [0.05, 1.0, 9.0] {
            let mut w = Waveform::new(1000);
            let n = (seconds * 1000.0) as usize;
            let samples: Vec<f32> = (0..n).map(|i| if i == n / 2 { 0.5 } else { 0.1 }).collect();
            w.add(&samples, 1);
            let peaks = w.finish();
            assert_eq!(peaks.len(), PEAKS);
            assert_eq!(
                *peaks.iter().max().unwrap(),
                128,
                "the loudest sample shows"
            );
        }
    }

    #[test]
    fn text_is_not_audio() {
        let r = analyse(
            b"hello, this is not an mp3\n",
            Some("mp3"),
            Limits::default(),
        );
        assert!(matches!(r, Err(Rejected::NotAudio(_))), "{r:?}");
        let r = analyse(
            &[0u8; 64],
            None,
            Limits {
                max_bytes: 10,
                max_seconds: 1.0,
                ..Limits::default()
            },
        );
        assert_eq!(
            r,
            Err(Rejected::TooLarge {
                bytes: 64,
                limit: 10
            })
        );
    }
}
