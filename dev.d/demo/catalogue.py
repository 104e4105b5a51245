"""The demo catalogue: four albums by invented artists.

Each track is a short, real, playable piece: a chord pad, a bass line, a
melody and (for some albums) a light beat, with the track title spoken over
the intro. Everything is derived from this table, so a change here changes
the generated media (and its cache key).
"""

# Scale degrees are semitones from the album's root.
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
DORIAN = (0, 2, 3, 5, 7, 9, 10)
MIXOLYDIAN = (0, 2, 4, 5, 7, 9, 10)

ALBUMS = [
    {
        "slug": "northern-lights",
        "name": "Northern Lights",
        "artist": "Elin Marsh",
        "colors": ("#0f2027", "#2c5364", "#7de2d1"),
        "root": 50,  # D3 (MIDI)
        "scale": DORIAN,
        "bpm": 84,
        "lead": "sine",
        "drums": False,
        "voice": "en-gb",
        "tracks": [
            {"title": "First Light", "chords": (0, 5, 3, 4)},
            {"title": "Polar Drift", "chords": (0, 3, 5, 4)},
            {"title": "Magnetic North", "chords": (5, 3, 0, 4)},
            {"title": "Afterglow", "chords": (0, 4, 5, 3)},
        ],
    },
    {
        "slug": "midnight-tram",
        "name": "Midnight Tram",
        "artist": "The Copper Lanterns",
        "colors": ("#1a1a2e", "#7b2d26", "#f0a04b"),
        "root": 45,  # A2
        "scale": MINOR,
        "bpm": 96,
        "lead": "pluck",
        "drums": True,
        "voice": "en-us",
        "tracks": [
            {"title": "Last Stop", "chords": (0, 5, 2, 6)},
            {"title": "Neon Rain", "chords": (0, 3, 4, 0)},
            {"title": "Tin Roof Waltz", "chords": (0, 6, 5, 4)},
        ],
    },
    {
        "slug": "saltwater-sketches",
        "name": "Saltwater Sketches",
        "artist": "Marina Okafor",
        "colors": ("#005c97", "#363795", "#ffd89b"),
        "root": 48,  # C3
        "scale": MAJOR,
        "bpm": 104,
        "lead": "triangle",
        "drums": True,
        "voice": "en-us+f3",
        "tracks": [
            {"title": "Tidepool", "chords": (0, 4, 5, 3)},
            # One Ogg Vorbis track, so the catalogue holds more than MP3.
            {"title": "Lighthouse Keeper", "chords": (5, 3, 0, 4), "format": "ogg"},
            {"title": "Driftwood", "chords": (0, 3, 4, 4)},
            {"title": "Low Tide", "chords": (3, 4, 0, 0)},
        ],
    },
    {
        "slug": "clockwork-garden",
        "name": "Clockwork Garden",
        "artist": "Juniper & the Gears",
        "colors": ("#3e5151", "#decba4", "#b8860b"),
        "root": 55,  # G3
        "scale": MIXOLYDIAN,
        "bpm": 112,
        "lead": "square",
        "drums": True,
        "voice": "en-gb-x-rp",
        "tracks": [
            {"title": "Brass Bees", "chords": (0, 6, 3, 0)},
            {"title": "Sundial", "chords": (0, 3, 6, 4)},
            {"title": "Wind-Up Heart", "chords": (3, 0, 6, 4)},
        ],
    },
]
