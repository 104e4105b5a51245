#!/usr/bin/env python3
"""Seeds the demo catalogue through the real APIs, behind the gateway.

    seed.py MEDIA_DIR     (MEDIA_DIR/manifest.json from media.py)

Idempotent. The public catalogue (song-svc) is read first: when every demo
album is there with all its tracks, nothing else happens (no login). Otherwise
it logs in as the demo admin and, for each missing album or track, does what
the admin dashboard does: POST /api/admin/upload-url, PUT the bytes to the
presigned URL with the returned headers, then POST /api/admin/album or
/api/admin/song. Albums are matched by (name, artist), tracks by title, so a
half-finished run is completed by the next one.

Environment: CADENZA_GATEWAY_URL (default http://127.0.0.1:8080),
CADENZA_DEMO_ADMIN_EMAIL, CADENZA_DEMO_ADMIN_PASSWORD.
Only the standard library is used.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

BASE = os.environ.get("CADENZA_GATEWAY_URL", "http://127.0.0.1:8080").rstrip("/")
TIMEOUT = 30


class HttpError(Exception):
    def __init__(self, method, url, status, body):
        self.status, self.body = status, body
        super().__init__(f"{method} {url} → {status}: {body[:600]}")


def log(msg):
    print(f"[demo] {msg}", file=sys.stderr, flush=True)


def request(method, url, body=None, token=None, headers=None, raw=None, retry_for=90):
    """JSON in/out. Retries 429 (Retry-After) and 502/503/504 (a service still
    starting behind the gateway) for up to retry_for seconds."""
    hdrs = {"Accept": "application/json"}
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    hdrs.update(headers or {})
    deadline = time.monotonic() + retry_for
    while True:
        req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as res:
                text = res.read().decode("utf-8", "replace")
                return res.status, (json.loads(text) if text.strip().startswith(("{", "[")) else text)
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            if e.code in (429, 502, 503, 504) and time.monotonic() < deadline:
                wait = 2.0
                try:
                    wait = max(1.0, min(30.0, float(e.headers.get("Retry-After") or 2)))
                except ValueError:
                    pass
                log(f"{method} {url} → {e.code}; retrying in {wait:.0f}s")
                time.sleep(wait)
                continue
            raise HttpError(method, url, e.code, text) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            if time.monotonic() < deadline:
                time.sleep(2)
                continue
            raise SystemExit(f"demo: {method} {url} failed: {e}") from None


def api(method, path, body=None, token=None, retry_for=90):
    return request(method, BASE + path, body=body, token=token, retry_for=retry_for)[1]


def field(obj, *names):
    """First present key, also looking one level into a wrapper object."""
    for n in names:
        if isinstance(obj, dict) and obj.get(n) is not None:
            return obj[n]
    for wrapper in ("album", "song", "data"):
        inner = obj.get(wrapper) if isinstance(obj, dict) else None
        if isinstance(inner, dict):
            for n in names:
                if inner.get(n) is not None:
                    return inner[n]
    return None


def public_state(manifest):
    """{(name, artist): set(titles)} of the demo albums song-svc lists."""
    try:
        albums = api("GET", "/api/song/album", retry_for=10).get("albums", [])
    except HttpError as e:
        log(f"public catalogue not readable ({e.status}); checking through the admin API")
        return None
    wanted = {(a["name"], a["artist"]) for a in manifest["albums"]}
    state = {}
    for a in albums:
        key = (a.get("name"), a.get("artist"))
        if key in wanted:
            detail = api("GET", f"/api/song/album/{urllib.parse.quote(str(a['id']))}", retry_for=10)
            state[key] = {s.get("title") for s in detail.get("songs", [])}
    return state


def complete(manifest, state):
    if state is None:
        return False
    for a in manifest["albums"]:
        titles = state.get((a["name"], a["artist"]))
        if titles is None or any(t["title"] not in titles for t in a["tracks"]):
            return False
    return True


class Admin:
    def __init__(self, email, password):
        self.email, self.password, self.token = email, password, None
        self.login()

    def login(self):
        res = api("POST", "/api/user/login", {"email": self.email, "password": self.password})
        self.token = res.get("accessToken")
        role = (res.get("userData") or {}).get("role")
        if not self.token:
            raise SystemExit(f"demo: login answered without an accessToken: {res}")
        if role != "admin":
            raise SystemExit(f"demo: {self.email} is not an admin (role {role!r})")

    def call(self, method, path, body=None):
        try:
            return api(method, path, body, self.token)
        except HttpError as e:
            if e.status != 401:
                raise
            self.login()  # the access token expired mid-run
            return api(method, path, body, self.token)

    def upload(self, path, kind, content_type):
        data = path.read_bytes()
        target = self.call("POST", "/api/admin/upload-url",
                           {"type": kind, "contentType": content_type, "size": len(data)})
        url, key = target.get("presignedURL"), target.get("fileKey")
        if not url or not key:
            raise SystemExit(f"demo: upload-url answered without presignedURL/fileKey: {target}")
        headers = {k: str(v) for k, v in (target.get("headers") or {"Content-Type": content_type}).items()
                   if k.lower() not in ("host", "content-length")}
        request("PUT", url, raw=data, headers=headers, retry_for=20)
        return key


def seed(manifest, media_dir):
    email = os.environ.get("CADENZA_DEMO_ADMIN_EMAIL")
    password = os.environ.get("CADENZA_DEMO_ADMIN_PASSWORD")
    if not email or not password:
        raise SystemExit("demo: CADENZA_DEMO_ADMIN_EMAIL / CADENZA_DEMO_ADMIN_PASSWORD are not set")
    admin = Admin(email, password)
    existing = {(a.get("name"), a.get("artist")): a for a in admin.call("GET", "/api/admin/album").get("albums", [])}
    created_albums = created_songs = 0
    for a in manifest["albums"]:
        t0 = time.monotonic()
        album = existing.get((a["name"], a["artist"]))
        if album is None:
            key = admin.upload(media_dir / a["cover"], "thumbnail", a["coverContentType"])
            res = admin.call("POST", "/api/admin/album", {"name": a["name"], "artist": a["artist"], "thumbnailKey": key})
            album_id = field(res, "id", "albumId")
            if not album_id:
                raise SystemExit(f"demo: POST /api/admin/album answered without an id: {res}")
            created_albums += 1
        else:
            album_id = album["id"]
        have = {s.get("title") for s in admin.call("GET", f"/api/admin/album/{album_id}/song").get("songs", [])}
        added = 0
        for t in a["tracks"]:
            if t["title"] in have:
                continue
            key = admin.upload(media_dir / t["file"], "song", t["contentType"])
            admin.call("POST", "/api/admin/song", {
                "title": t["title"], "artist": a["artist"], "audioKey": key,
                "duration": t["duration"], "albumId": album_id, "trackNumber": t["trackNumber"],
            })
            added += 1
        created_songs += added
        if album is None or added:
            log(f"{a['name']} — {a['artist']}: {'created, ' if album is None else ''}"
                f"{added} track(s) uploaded in {time.monotonic() - t0:.1f}s")
    return created_albums, created_songs


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    media_dir = Path(argv[1])
    manifest = json.loads((media_dir / "manifest.json").read_text())
    if complete(manifest, public_state(manifest)):
        log(f"demo catalogue already present ({len(manifest['albums'])} albums)")
        return 0
    try:
        albums, songs = seed(manifest, media_dir)
    except HttpError as e:
        raise SystemExit(f"demo: {e}") from None
    log(f"seeded {albums} album(s) and {songs} song(s) through the admin API")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
