//! `cargo run --release -p cadenza-media --example analyse -- FILE...`:
//! analyses each file as the media worker does and prints one line per
//! file: the seconds the analysis took, the audio's length and its
//! loudness. Used by bench/media.sh.

use std::time::Instant;

fn main() {
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let ext = path.rsplit_once('.').map(|(_, e)| e.to_owned());
        let t0 = Instant::now();
        let result =
            cadenza_media::analyse(&bytes, ext.as_deref(), cadenza_media::Limits::default());
        let took = t0.elapsed().as_secs_f64();
        match result {
            Ok(a) => println!(
                "{path}\t{took:.4}\t{:.3}\t{}\t{:.1}",
                a.stream.duration_seconds,
                bytes.len(),
                a.loudness.map_or(f64::NAN, |l| l.integrated_lufs)
            ),
            Err(e) => println!("{path}\t{took:.4}\trejected: {e}"),
        }
    }
}
