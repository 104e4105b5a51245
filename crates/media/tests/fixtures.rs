//! Real files, made here by Debian's ffmpeg (`./dev test` installs it):
//! an MP3, an AAC in M4A, a FLAC and an Ogg Vorbis of known length, level
//! and tags, a corrupt FLAC and a text file named `.mp3`. The loudness
//! reference is ffmpeg's own EBU R128 meter (`-af ebur128`), an
//! implementation independent of the `ebur128` crate's.

use std::path::{Path, PathBuf};
use std::process::Command;

use cadenza_media::{analyse, Analysis, Limits, Rejected, PEAKS, REFERENCE_LUFS};

const SECONDS: f64 = 3.0;

struct Dir(PathBuf);

impl Dir {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let d = std::env::temp_dir().join(format!("cadenza-media-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        Self(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ffmpeg(args: &[&str]) -> String {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg runs (./dev test installs Debian's ffmpeg)");
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "ffmpeg {args:?}: {log}");
    log
}

/// ffmpeg's integrated loudness (LUFS) and true peak (dBFS) of a file.
fn reference(path: &Path) -> (f64, f64) {
    let log = ffmpeg(&[
        "-i",
        path.to_str().unwrap(),
        "-af",
        "ebur128=peak=true",
        "-f",
        "null",
        "-",
    ]);
    let summary = &log[log.rfind("Summary:").expect("an ebur128 summary")..];
    let value = |label: &str| -> f64 {
        let at = summary
            .find(label)
            .unwrap_or_else(|| panic!("{label} in {summary}"));
        summary[at + label.len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    (value("I:"), value("Peak:"))
}

struct Made {
    path: PathBuf,
    ext: &'static str,
    codec: &'static str,
    container: &'static str,
    title: &'static str,
    track: u32,
    cover: bool,
}

/// One 3 s stereo tone per format, each at its own level, tagged.
fn make(dir: &Path) -> Vec<Made> {
    let cover = dir.join("cover.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=red:s=64x64",
        "-frames:v",
        "1",
        cover.to_str().unwrap(),
    ]);
    // (extension, codec, container, level, encoder arguments, with a cover)
    type Format<'a> = (&'a str, &'a str, &'a str, &'a str, &'a [&'a str], bool);
    let formats: [Format; 4] = [
        (
            "mp3",
            "mp3",
            "mpeg",
            "-3dB",
            &["-c:a", "libmp3lame", "-b:a", "192k", "-id3v2_version", "3"],
            true,
        ),
        (
            "m4a",
            "aac",
            "mp4",
            "-9dB",
            &["-c:a", "aac", "-b:a", "160k"],
            false,
        ),
        ("flac", "flac", "flac", "0dB", &["-c:a", "flac"], true),
        (
            "ogg",
            "vorbis",
            "ogg",
            "-15dB",
            &["-c:a", "libvorbis", "-q:a", "5"],
            false,
        ),
    ];
    formats
        .iter()
        .enumerate()
        .map(|(i, (ext, codec, container, gain, encode, with_cover))| {
            let path = dir.join(format!("song.{ext}"));
            let title = ["First Light", "Second Wind", "Third Rail", "Fourth Wall"][i];
            let track = format!("{}/4", i + 1);
            let mut args: Vec<String> = [
                "-f",
                "lavfi",
                "-i",
                &format!(
                    "sine=frequency={}:sample_rate=44100:duration={SECONDS}",
                    220 * (i + 1)
                ),
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            if *with_cover {
                args.extend(
                    [
                        "-i",
                        cover.to_str().unwrap(),
                        "-map",
                        "0:a",
                        "-map",
                        "1:v",
                        "-c:v",
                        "copy",
                        "-disposition:v",
                        "attached_pic",
                    ]
                    .map(String::from),
                );
            }
            args.extend([
                "-af".into(),
                format!("volume={gain}"),
                "-ac".into(),
                "2".into(),
            ]);
            args.extend(encode.iter().map(|s| s.to_string()));
            for (k, v) in [
                ("title", title.to_owned()),
                ("artist", "The Fixtures".to_owned()),
                ("album", "Made Here".to_owned()),
                ("track", track),
                ("disc", "1/1".to_owned()),
                ("date", "2021".to_owned()),
            ] {
                args.extend(["-metadata".to_owned(), format!("{k}={v}")]);
            }
            args.push(path.to_str().unwrap().to_owned());
            ffmpeg(&args.iter().map(String::as_str).collect::<Vec<_>>());
            Made {
                path,
                ext,
                codec,
                container,
                title,
                track: (i + 1) as u32,
                cover: *with_cover,
            }
        })
        .collect()
}

fn analysed(m: &Made) -> Analysis {
    let bytes = std::fs::read(&m.path).unwrap();
    analyse(&bytes, Some(m.ext), Limits::default())
        .unwrap_or_else(|e| panic!("{}: {e}", m.path.display()))
}

#[test]
fn four_formats_are_measured_as_an_independent_meter_measures_them() {
    let dir = Dir::new();
    let made = make(&dir.0);
    let mut gains = vec![];
    for m in &made {
        let a = analysed(m);
        let what = m.path.display();
        assert_eq!(a.stream.codec, m.codec, "{what}");
        assert_eq!(a.stream.container, m.container, "{what}");
        assert_eq!(
            (a.stream.sample_rate, a.stream.channels),
            (44_100, 2),
            "{what}"
        );
        assert!(
            (a.stream.duration_seconds - SECONDS).abs() <= 0.010,
            "{what}: {} s, made {SECONDS} s",
            a.stream.duration_seconds
        );
        assert!(a.stream.bitrate > 0, "{what}");
        // Tags.
        assert_eq!(a.tags.title.as_deref(), Some(m.title), "{what}");
        assert_eq!(a.tags.artist.as_deref(), Some("The Fixtures"), "{what}");
        assert_eq!(a.tags.album.as_deref(), Some("Made Here"), "{what}");
        assert_eq!(a.tags.track, Some(m.track), "{what}");
        assert_eq!(a.tags.year, Some(2021), "{what}");
        match (&a.tags.cover, m.cover) {
            (Some(c), true) => {
                assert_eq!(c.mime, "image/png", "{what}");
                assert!(c.bytes.starts_with(b"\x89PNG"), "{what}");
            }
            (None, false) => {}
            (got, want) => panic!(
                "{what}: cover {:?}, made with one: {want}",
                got.as_ref().map(|c| &c.mime)
            ),
        }
        // Loudness, against ffmpeg's meter.
        let (lufs, peak) = reference(&m.path);
        let l = a.loudness.unwrap_or_else(|| panic!("{what}: no loudness"));
        assert!(
            (l.integrated_lufs - lufs).abs() <= 0.5,
            "{what}: {} LUFS, ffmpeg says {lufs}",
            l.integrated_lufs
        );
        assert!(
            (l.true_peak_dbtp - peak).abs() <= 0.5,
            "{what}: true peak {} dBTP, ffmpeg says {peak}",
            l.true_peak_dbtp
        );
        assert!((l.track_gain_db - (REFERENCE_LUFS - l.integrated_lufs)).abs() < 1e-9);
        // A steady tone: a flat waveform at its peak level.
        assert_eq!(a.peaks.len(), PEAKS);
        let (lo, hi) = (a.peaks.iter().min().unwrap(), a.peaks.iter().max().unwrap());
        assert!(hi - lo <= 40, "{what}: waveform {lo}..{hi}");
        gains.push(l.track_gain_db);
    }
    // Made 3, 9, 15 dB apart around the FLAC: the gains say so.
    let order: Vec<f64> = gains.clone();
    assert!(
        order[2] < order[0] && order[0] < order[1] && order[1] < order[3],
        "{gains:?}"
    );
}

#[test]
fn what_is_not_audio_is_rejected_with_a_reason() {
    let dir = Dir::new();
    let made = make(&dir.0);
    // A text file named .mp3.
    let text = b"ID3 tags? No: this is a text file someone named song.mp3\n".repeat(50);
    let r = analyse(&text, Some("mp3"), Limits::default());
    assert!(matches!(r, Err(Rejected::NotAudio(_))), "{r:?}");
    assert!(r.unwrap_err().to_string().starts_with("not an audio file"));
    // A FLAC whose header and metadata are intact and whose audio is noise.
    let flac = std::fs::read(&made[2].path).unwrap();
    let mut audio = 4;
    loop {
        let (last, len) = (
            flac[audio] & 0x80 != 0,
            u32::from_be_bytes([0, flac[audio + 1], flac[audio + 2], flac[audio + 3]]) as usize,
        );
        audio += 4 + len;
        if last {
            break;
        }
    }
    let mut corrupt = flac[..audio].to_vec();
    let mut x: u32 = 0x1234_5678;
    corrupt.extend((0..60_000).map(|_| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x as u8
    }));
    let r = analyse(&corrupt, Some("flac"), Limits::default());
    assert!(
        matches!(r, Err(Rejected::Corrupt(_) | Rejected::Empty)),
        "{r:?}"
    );
    // Limits: size before decoding, length while decoding.
    let mp3 = std::fs::read(&made[0].path).unwrap();
    let r = analyse(
        &mp3,
        None,
        Limits {
            max_bytes: 1000,
            max_seconds: 60.0,
            ..Limits::default()
        },
    );
    assert!(matches!(r, Err(Rejected::TooLarge { .. })), "{r:?}");
    let r = analyse(
        &mp3,
        None,
        Limits {
            max_bytes: 1 << 30,
            max_seconds: 1.0,
            ..Limits::default()
        },
    );
    assert_eq!(r, Err(Rejected::TooLong(1)));
    // Wall time, while decoding: a zero budget stops at the first packet.
    let r = analyse(
        &mp3,
        None,
        Limits {
            max_wall: std::time::Duration::ZERO,
            ..Limits::default()
        },
    );
    assert_eq!(r, Err(Rejected::TooSlow(0)));
    // An M4A whose sample-size table claims four billion entries in a few
    // bytes is refused before the decoder allocates for the claim.
    let mut m4a = std::fs::read(&made[1].path).unwrap();
    let at = m4a
        .windows(4)
        .position(|w| w == b"stsz")
        .expect("an stsz box")
        + 4;
    // version/flags, sample_size 0, then the count.
    m4a[at + 4..at + 8].copy_from_slice(&0u32.to_be_bytes());
    m4a[at + 8..at + 12].copy_from_slice(&u32::MAX.to_be_bytes());
    let r = analyse(&m4a, Some("m4a"), Limits::default());
    assert!(
        matches!(&r, Err(Rejected::Corrupt(m)) if m.contains("stsz")),
        "{r:?}"
    );
    // Which rejections mean "not audio" (the worker deletes those objects).
    assert!(Rejected::NotAudio("x".into()).is_not_audio());
    assert!(!Rejected::Unsupported("opus".into()).is_not_audio());
    assert!(!Rejected::TooLong(1).is_not_audio());
}
