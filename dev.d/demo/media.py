#!/usr/bin/env python3
"""Generates the demo catalogue's media: real, playable audio and real covers.

    media.py catalogue OUTDIR   every album of catalogue.py: OUTDIR/<slug>/
                                cover.jpg + NN-<title>.mp3|ogg, and
                                OUTDIR/manifest.json (paths, types, durations)
    media.py fixtures OUTDIR    small upload fixtures for the browser tests:
                                cover.png and two short MP3s, and album/:
                                three tagged MP3s for the folder import

Audio: sox synthesises a chord pad, a bass line, a melody and a light beat;
espeak-ng speaks the title over the intro; lame encodes MP3 (ID3 tags and the
cover embedded), sox encodes Ogg Vorbis. Covers: ImageMagick gradients,
shapes and the album title in DejaVu Sans.

Everything is cached: an album is regenerated only when its entry in
catalogue.py or GENERATOR_VERSION changes. Needs: sox, lame, espeak-ng,
imagemagick, fonts-dejavu-core (dev.d/up/60-demo-data.sh installs them).
"""

import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalogue import ALBUMS, MAJOR  # noqa: E402

GENERATOR_VERSION = "5"
RATE = 44100
# Debian's ImageMagick 6. /usr/bin explicitly: a PATH entry may shadow it.
CONVERT = "/usr/bin/convert" if os.path.exists("/usr/bin/convert") else "convert"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def run(cmd, **kw):
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if res.returncode != 0:
        shown = " ".join(str(c) for c in cmd)
        if len(shown) > 400:
            shown = shown[:400] + " …"
        raise SystemExit(f"media: command failed ({res.returncode}): {shown}\n{res.stderr.strip()}")
    return res.stdout


def freq(midi):
    return 440.0 * 2 ** ((midi - 69) / 12)


def note(root, scale, degree, octave=0):
    """MIDI note of a scale degree (may be negative or beyond the octave)."""
    o, i = divmod(degree, len(scale))
    return root + 12 * (o + octave) + scale[i]


def slugify(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# ---------------------------------------------------------------- audio
def sox_voice(path, segments):
    """One mono voice: segments are sox effect chains played one after the other."""
    cmd = ["sox", "-n", "-r", str(RATE), "-c", "1", "-b", "16", str(path)]
    for i, seg in enumerate(segments):
        if i:
            cmd.append(":")
        cmd += [str(x) for x in seg]
    run(cmd)


def rest(dur):
    return ["synth", f"{dur:.4f}", "sine", "440", "vol", "0"]


def tone(dur, wave, f, attack=0.01, release=None, gain=1.0, extra=()):
    release = min(dur * 0.6, 0.25) if release is None else min(release, dur)
    return ["synth", f"{dur:.4f}", wave, f"{f:.3f}",
            "fade", "q", f"{min(attack, dur / 2):.4f}", f"{dur:.4f}", f"{release:.4f}",
            "vol", f"{gain:.3f}", *extra]


def melody_line(rng, album, track, bars, beat):
    """A two-bar motif over the progression, repeated with variations."""
    root, scale = album["root"], album["scale"]
    eighth = beat / 2
    rhythms = [
        (2, 1, 1, 2, 2), (1, 1, 1, 1, 2, 2), (3, 1, 2, 2), (2, 2, 1, 1, 2),
        (1, 1, 2, 1, 1, 2), (4, 2, 2),
    ]
    motif = []
    deg = rng.choice((0, 2, 4))
    for bar in range(2):
        for length in rng.choice(rhythms):
            if rng.random() < 0.15:
                motif.append((None, length))
                continue
            deg = max(-2, min(9, deg + rng.choice((-2, -1, -1, 1, 1, 2, 0, 3, -3))))
            motif.append((deg, length))

    segs = []
    intro = 2  # bars of pad (and the spoken title) before the tune comes in
    segs.append(rest(intro * 4 * beat))
    for rep in range((bars - intro - 1 + 1) // 2):
        if intro + rep * 2 >= bars - 1:
            break
        chord = track["chords"][(intro + rep * 2) % len(track["chords"])]
        shift = chord if rep % 2 else 0
        for deg, length in motif:
            dur = length * eighth
            if deg is None or (rep % 4 == 3 and rng.random() < 0.25):
                segs.append(rest(dur))
            else:
                n = note(root, scale, deg + shift, octave=1)
                segs.append(tone(dur, album["lead"], freq(n), attack=0.008,
                                 release=dur * 0.7, gain=0.9))
    used = intro + ((bars - intro - 1) // 2) * 2
    # Land on the tonic for the last bar(s).
    segs.append(tone((bars - used) * 4 * beat, album["lead"], freq(note(root, scale, 0, 1)),
                     attack=0.01, release=(bars - used) * 4 * beat * 0.8, gain=0.9))
    return segs


def synth_track(album, track, index, out_wav, tmp):
    rng = random.Random(f"{album['slug']}/{track['title']}")
    bpm = album["bpm"] + rng.choice((-6, -3, 0, 3, 6))
    beat = 60.0 / bpm
    bar = 4 * beat
    target = rng.uniform(24, 34)
    bars = max(8, round(target / bar / 4) * 4) + 1  # + a closing bar
    root, scale = album["root"], album["scale"]
    chords = track["chords"]
    voices = []

    # Pad: the three chord tones, soft attack.
    for v in range(3):
        segs = []
        for b in range(bars):
            d = chords[b % len(chords)] if b < bars - 1 else 0
            n = note(root, scale, d + 2 * v)
            segs.append(tone(bar, "triangle" if v == 0 else "sine", freq(n),
                             attack=bar * 0.25, release=bar * 0.5, gain=0.8))
        p = tmp / f"pad{v}.wav"
        sox_voice(p, segs)
        voices.append((0.22, p))

    # Bass: the chord root on every beat (plucked), one octave down.
    segs = []
    for b in range(bars):
        d = chords[b % len(chords)] if b < bars - 1 else 0
        n = note(root, scale, d, octave=-1)
        if b == bars - 1:
            segs.append(tone(bar, "pluck", freq(n), release=bar * 0.9))
            continue
        pattern = (2, 1, 1) if rng.random() < 0.5 else (1, 1, 1, 1)
        for length in pattern:
            segs.append(tone(length * beat, "pluck", freq(n), release=length * beat * 0.8))
    p = tmp / "bass.wav"
    sox_voice(p, segs)
    voices.append((0.45, p))

    # Melody.
    p = tmp / "melody.wav"
    sox_voice(p, melody_line(rng, album, track, bars, beat))
    voices.append((0.42 if album["lead"] in ("square",) else 0.55, p))

    # Beat: kick, snare, hats on eighths (from bar 2).
    if album["drums"]:
        eighth = beat / 2
        segs = [rest(2 * bar)]
        for b in range(2, bars - 1):
            for e in range(8):
                if e in (0, 4) or (e == 5 and rng.random() < 0.3):
                    segs.append(["synth", f"{0.14:.4f}", "sine", "110:38", "fade", "q", "0.003", "0.14", "0.1",
                                 "pad", "0", f"{eighth - 0.14:.4f}"])
                elif e in (2, 6):
                    segs.append(["synth", "0.12", "whitenoise", "highpass", "1200", "fade", "q", "0.002",
                                 "0.12", "0.11", "vol", "0.55", "pad", "0", f"{eighth - 0.12:.4f}"])
                else:
                    segs.append(["synth", "0.05", "whitenoise", "highpass", "7000", "fade", "q", "0.001",
                                 "0.05", "0.045", "vol", "0.35", "pad", "0", f"{eighth - 0.05:.4f}"])
        segs.append(rest(bar))
        p = tmp / "drums.wav"
        sox_voice(p, segs)
        voices.append((0.5, p))

    music = tmp / "music.wav"
    cmd = ["sox", "-m"]
    for gain, path in voices:
        cmd += ["-v", f"{gain}", str(path)]
    cmd += [str(music), "reverb", "35", "50", "80", "channels", "1"]
    run(cmd)

    # The title, spoken over the intro.
    speech_raw = tmp / "speech-raw.wav"
    run(["espeak-ng", "-v", album.get("voice", "en-us"), "-s", "135", "-p", "45", "-a", "160",
         "-w", str(speech_raw), f"{track['title']}. {album['artist']}."])
    speech = tmp / "speech.wav"
    run(["sox", str(speech_raw), "-r", str(RATE), "-c", "1", "-b", "16", str(speech),
         "highpass", "120", "pad", f"{beat:.3f}", "0"])

    total = bars * bar + 1.5
    run(["sox", "-m", "-v", "0.9", str(speech), "-v", "0.8", str(music), "-b", "16", str(out_wav),
         "trim", "0", f"{total:.3f}", "channels", "2", "norm", "-1.5",
         "fade", "q", "0.05", f"{total:.3f}", "2.5"])
    return float(run(["soxi", "-D", str(out_wav)]).strip())


def encode(wav, out, fmt, album, track, index, count, cover=None):
    if fmt == "mp3":
        cmd = ["lame", "--quiet", "-b", "160", "-q", "2", "--add-id3v2",
               "--tt", track["title"], "--ta", album["artist"], "--tl", album["name"],
               "--ty", "2026", "--tn", f"{index}/{count}", "--tg", "Electronic"]
        if cover and cover.stat().st_size < 120_000:
            cmd += ["--ti", str(cover)]
        run(cmd + [str(wav), str(out)])
        return "audio/mpeg"
    run(["sox", str(wav), "-C", "5",
         "--comment", f"TITLE={track['title']}",
         "--add-comment", f"ARTIST={album['artist']}",
         "--add-comment", f"ALBUM={album['name']}",
         "--add-comment", f"TRACKNUMBER={index}",
         str(out)])
    return "audio/ogg"


# ---------------------------------------------------------------- covers
def cover_image(out, title, subtitle, colors, seed, size=640):
    rng = random.Random(seed)
    c1, c2, c3 = colors
    s = size
    cmd = [CONVERT, "-size", f"{s}x{s}", "-define", f"gradient:angle={rng.choice((120, 135, 150, 165))}",
           f"gradient:{c1}-{c2}"]
    # A few soft discs and rings in the accent colour.
    for _ in range(3):
        x, y, r = rng.randint(s // 3, s), rng.randint(0, s * 2 // 3), rng.randint(s // 8, s // 3)
        cmd += ["-fill", "none", "-stroke", c3, "-strokewidth", str(rng.randint(2, 6)),
                "-draw", f"stroke-opacity 0.45 circle {x},{y} {x + r},{y}"]
    x, y, r = rng.randint(s // 2, s), rng.randint(s // 8, s // 2), rng.randint(s // 6, s // 4)
    cmd += ["-stroke", "none", "-fill", c3, "-draw", f"fill-opacity 0.55 circle {x},{y} {x + r},{y}"]
    # A darker band at the bottom so the title always reads.
    band = s * 9 // 20
    cmd += ["+define", "gradient:angle",  # the band fades top to bottom
            "(", "-size", f"{s}x{band}", "xc:black",
            "(", "-size", f"{s}x{band}", "gradient:black-gray62", ")",
            "-alpha", "off", "-compose", "CopyOpacity", "-composite", ")",
            "-compose", "over", "-gravity", "south", "-composite"]
    # DejaVu Sans Bold averages ~0.62 em per character: fit the usable width.
    pt = max(20, min(64, int(s * 0.84 / (0.64 * max(6, len(title))))))
    cmd += ["-gravity", "southwest", "-stroke", "none",
            "-font", FONT_BOLD, "-pointsize", str(pt), "-fill", "white",
            "-annotate", f"+{s // 14}+{s // 14 + int(pt * 0.9)}", title,
            "-font", FONT, "-pointsize", str(max(16, pt // 2)), "-fill", "rgba(255,255,255,0.85)",
            "-annotate", f"+{s // 14}+{s // 14}", subtitle]
    if str(out).endswith((".jpg", ".jpeg")):
        cmd += ["-quality", "86", "-sampling-factor", "4:2:0", "-strip"]
    else:
        cmd += ["-strip"]
    run(cmd + [str(out)])


# ---------------------------------------------------------------- main
def album_key(album):
    blob = json.dumps(album, sort_keys=True) + GENERATOR_VERSION
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def build_album(album, outdir):
    adir = outdir / album["slug"]
    stamp = adir / ".stamp"
    key = album_key(album)
    meta_path = adir / "album.json"
    if stamp.is_file() and stamp.read_text() == key and meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        if all((outdir / t["file"]).is_file() for t in meta["tracks"]) and (outdir / meta["cover"]).is_file():
            return meta, False
    shutil.rmtree(adir, ignore_errors=True)
    adir.mkdir(parents=True)
    cover = adir / "cover.jpg"
    cover_image(cover, album["name"], album["artist"], album["colors"], album["slug"])
    tracks = []
    count = len(album["tracks"])
    with tempfile.TemporaryDirectory(prefix="cadenza-demo-") as td:
        tmp = Path(td)
        for i, track in enumerate(album["tracks"], 1):
            wav = tmp / "track.wav"
            duration = synth_track(album, track, i, wav, tmp)
            fmt = track.get("format", "mp3")
            out = adir / f"{i:02d}-{slugify(track['title'])}.{fmt}"
            ctype = encode(wav, out, fmt, album, track, i, count, cover)
            tracks.append({"title": track["title"], "trackNumber": i, "file": str(out.relative_to(outdir)),
                           "contentType": ctype, "size": out.stat().st_size,
                           "duration": round(duration, 3)})
    meta = {"slug": album["slug"], "name": album["name"], "artist": album["artist"],
            "cover": str(cover.relative_to(outdir)), "coverContentType": "image/jpeg",
            "tracks": tracks}
    meta_path.write_text(json.dumps(meta, indent=2))
    stamp.write_text(key)
    return meta, True


def cmd_catalogue(outdir):
    outdir.mkdir(parents=True, exist_ok=True)

    def one(album):
        t0 = time.monotonic()
        meta, built = build_album(album, outdir)
        if built:
            print(f"media: {album['name']}: {len(meta['tracks'])} tracks in {time.monotonic() - t0:.1f}s",
                  file=sys.stderr)
        return meta

    # Albums in parallel (each one runs its own sox/lame processes).
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        manifest = list(pool.map(one, ALBUMS))
    (outdir / "manifest.json").write_text(json.dumps({"albums": manifest}, indent=2))


FIXTURES = {
    "slug": "e2e-fixtures", "name": "Test Signals", "artist": "Cadenza QA",
    "root": 57, "scale": MAJOR, "bpm": 120, "lead": "sine", "drums": False, "voice": "en-us",
    "colors": ("#232526", "#414345", "#e94057"),
    "tracks": [{"title": "Morning Test Tone", "chords": (0, 3, 4, 0)},
               {"title": "Evening Test Tone", "chords": (0, 5, 3, 4)}],
}


def cmd_fixtures(outdir):
    """cover.png + '01 - Morning Test Tone.mp3' + '02 - Evening Test Tone.mp3'."""
    outdir.mkdir(parents=True, exist_ok=True)
    stamp = outdir / ".stamp"
    names = [f"{i:02d} - {t['title']}.mp3" for i, t in enumerate(FIXTURES["tracks"], 1)]
    key = album_key(FIXTURES)
    if stamp.is_file() and stamp.read_text() == key and all((outdir / n).is_file() for n in names + ["cover.png"]):
        return
    cover_image(outdir / "cover.png", "Test Signals", "Cadenza QA", FIXTURES["colors"], "e2e", size=256)
    with tempfile.TemporaryDirectory(prefix="cadenza-e2e-") as td:
        tmp = Path(td)
        for i, (track, name) in enumerate(zip(FIXTURES["tracks"], names), 1):
            wav = tmp / "t.wav"
            synth_track(FIXTURES, track, i, wav, tmp)
            # Short files keep the upload quick: the first 12 s.
            short = tmp / "short.wav"
            run(["sox", str(wav), str(short), "trim", "0", "12", "fade", "q", "0", "12", "1.5"])
            encode(short, outdir / name, "mp3", FIXTURES, track, i, len(names))
    stamp.write_text(key)


def cmd_fixtures_all(outdir):
    cmd_fixtures(outdir)
    folder_album(outdir)


# The folder import's album (e2e/folder.test.mjs): sine tones of different
# loudness, tagged, the cover embedded in track 1 only and no image file in
# the folder (so the embedded picture must become the album cover). The file
# names sort in another order than the track numbers, so the order seen in the
# dashboard can only come from the tags.
FOLDER_ALBUM = {
    "name": "Folder Album", "artist": "Folder Artist", "seconds": 8,
    "tracks": [  # file, title, track number, frequency (Hz), level (dBFS)
        ("tone-b.mp3", "One", 1, 440, -10),
        ("tone-c.mp3", "Two", 2, 554.37, -20),
        ("tone-a.mp3", "Three", 3, 659.25, -30),
    ],
    "colors": ("#0f2027", "#2c5364", "#f7b733"),
}


def folder_album(outdir):
    """outdir/album/tone-{b,c,a}.mp3: "One", "Two", "Three" (tracks 1-3) at -10/-20/-30 dBFS."""
    adir = outdir / "album"
    stamp = adir / ".stamp"
    key = hashlib.sha256((json.dumps(FOLDER_ALBUM, sort_keys=True) + GENERATOR_VERSION).encode()).hexdigest()[:16]
    files = [t[0] for t in FOLDER_ALBUM["tracks"]]
    if stamp.is_file() and stamp.read_text() == key and all((adir / f).is_file() for f in files):
        return
    shutil.rmtree(adir, ignore_errors=True)
    adir.mkdir(parents=True)
    count = len(FOLDER_ALBUM["tracks"])
    with tempfile.TemporaryDirectory(prefix="cadenza-e2e-folder-") as td:
        tmp = Path(td)
        cover = tmp / "cover.jpg"  # embedded only, never in the folder
        cover_image(cover, FOLDER_ALBUM["name"], FOLDER_ALBUM["artist"], FOLDER_ALBUM["colors"], "folder", size=256)
        for name, title, number, hz, dbfs in FOLDER_ALBUM["tracks"]:
            wav = tmp / "tone.wav"
            secs = FOLDER_ALBUM["seconds"]
            # A full-scale sine peaks at 0 dBFS; `vol` sets the peak level.
            run(["sox", "-n", "-r", str(RATE), "-c", "2", "-b", "16", str(wav),
                 "synth", str(secs), "sine", f"{hz}", "vol", f"{dbfs}dB", "fade", "q", "0.05", str(secs), "0.05"])
            cmd = ["lame", "--quiet", "-b", "128", "--add-id3v2",
                   "--tt", title, "--ta", FOLDER_ALBUM["artist"], "--tl", FOLDER_ALBUM["name"],
                   "--ty", "2026", "--tn", f"{number}/{count}"]
            if number == 1:
                cmd += ["--ti", str(cover)]
            run(cmd + [str(wav), str(adir / name)])
    stamp.write_text(key)


def main(argv):
    if len(argv) != 3 or argv[1] not in ("catalogue", "fixtures"):
        print(__doc__, file=sys.stderr)
        return 2
    for tool in ("sox", "soxi", "lame", "espeak-ng", CONVERT):
        if not shutil.which(tool):
            print(f"media: {tool} not found", file=sys.stderr)
            return 1
    outdir = Path(argv[2]).resolve()
    (cmd_catalogue if argv[1] == "catalogue" else cmd_fixtures_all)(outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
