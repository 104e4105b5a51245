#!/usr/bin/env python3
"""Cadenza soak load generator (bench/soak.sh runs it; asyncio + aiohttp).

Closed loop: SOAK_CONNECTIONS workers share one connection pool of exactly
that many keep-alive connections, so that many requests are in flight at all
times. Each worker picks its next request:

  login    POST /api/user/login          paced: SOAK_LOGIN_RPS, round-robin over the soak users
  refresh  POST /api/user/refresh-token  paced: SOAK_REFRESH_RPS, one rotating cookie chain per user
  else, by weight:
  albums   GET /api/song/album            album    GET /api/song/album/{id}
  songs    GET /api/song/                 song     GET /api/song/{id}
  search   GET /api/song/search?q=        stream   GET /api/song/stream/{id} (listener token)
  admin    GET /api/admin/album (admin token)

Logins and refreshes are paced below user-svc's per-IP limits (login 100/min,
refresh 300/min, all soak traffic comes from 127.0.0.1) and spread over the
soak users (per-email login limit 10/min), so a 429 is an error like any other
non-2xx answer. Bounded: SOAK_WARMUP + SOAK_DURATION seconds, at most
SOAK_MAX_REQUESTS requests. Loopback only.

Every second the RSS (VmRSS of /proc/PID/status) of each service named in
SOAK_PIDS ("name=pid,...") is sampled. After the warm-up, the average of the
first 10 s is compared with the average of the last 10 s: flat means within
SOAK_RSS_TOLERANCE (0.10).

Prints a Markdown summary (per kind: requests, errors, rps, p50, p99; per
service: RSS start/end) and writes it, with the raw numbers as JSON, to the
paths given by --report/--json. Exit status 1 on any error or non-flat RSS.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field

import aiohttp

READ_WEIGHTS = {
    "albums": 15,
    "album": 20,
    "songs": 5,
    "song": 20,
    "search": 10,
    "stream": 25,
    "admin": 5,
}
SEARCH_TERMS = ["light", "drift", "marsh", "a", "blue", "night", "first", "polar", "song", "zz"]


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    rate_limited: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)

    def ok(self, kind: str, secs: float) -> None:
        self.latencies.setdefault(kind, []).append(secs)

    def err(self, kind: str, secs: float, what: str) -> None:
        self.latencies.setdefault(kind, []).append(secs)
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if "429" in what:
            self.rate_limited[kind] = self.rate_limited.get(kind, 0) + 1
        if len(self.samples) < 20:
            self.samples.append(f"{kind}: {what}")


class Pacer:
    """Hands out `rate` tickets per second (no bursts beyond one second)."""

    def __init__(self, rate: float, start: float) -> None:
        self.rate = rate
        self.start = start
        self.taken = 0

    def take(self, now: float) -> bool:
        if self.rate <= 0:
            return False
        if self.taken < (now - self.start) * self.rate:
            self.taken += 1
            return True
        return False


@dataclass
class Account:
    email: str
    password: str
    token: str = ""
    cookie: str = ""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def refresh_cookie(resp: aiohttp.ClientResponse) -> str:
    for raw in resp.headers.getall("Set-Cookie", []):
        name, _, rest = raw.partition("=")
        if name.strip() == "refreshToken":
            return rest.split(";", 1)[0]
    return ""


class Soak:
    def __init__(self, args: argparse.Namespace, accounts: list[Account], admin: Account) -> None:
        self.a = args
        self.accounts = accounts
        self.admin = admin
        self.stats = Stats()
        self.album_ids: list[str] = []
        self.song_ids: list[str] = []
        self.count = 0
        self.login_rr = 0
        self.refresh_rr = 0
        self.rng = random.Random(8)
        self.kinds = list(READ_WEIGHTS)
        self.weights = [READ_WEIGHTS[k] for k in self.kinds]

    # -------------------------------------------------------------- requests
    async def login(self, http: aiohttp.ClientSession, acct: Account, record: bool) -> tuple[str, str]:
        t0 = time.perf_counter()
        try:
            async with http.post(
                f"{self.a.user}/api/user/login", json={"email": acct.email, "password": acct.password}
            ) as resp:
                body = await resp.read()
                secs = time.perf_counter() - t0
                if resp.status != 200:
                    raise RuntimeError(f"HTTP {resp.status} {body[:120]!r}")
                token = json.loads(body)["accessToken"]
                cookie = refresh_cookie(resp)
                if not cookie:
                    raise RuntimeError("no refreshToken cookie")
        except Exception as e:  # noqa: BLE001 - every failure is an error of this kind
            if not record:
                raise RuntimeError(f"login {acct.email}: {e}") from e
            self.stats.err("login", time.perf_counter() - t0, str(e))
            return "", ""
        if record:
            self.stats.ok("login", secs)
        return token, cookie

    async def refresh(self, http: aiohttp.ClientSession, acct: Account) -> None:
        async with acct.lock:
            t0 = time.perf_counter()
            try:
                async with http.post(
                    f"{self.a.user}/api/user/refresh-token", headers={"Cookie": f"refreshToken={acct.cookie}"}
                ) as resp:
                    body = await resp.read()
                    secs = time.perf_counter() - t0
                    if resp.status != 200:
                        raise RuntimeError(f"HTTP {resp.status} {body[:120]!r}")
                    acct.token = json.loads(body)["accessToken"]
                    cookie = refresh_cookie(resp)
                    if not cookie:
                        raise RuntimeError("no rotated refreshToken cookie")
                    acct.cookie = cookie
            except Exception as e:  # noqa: BLE001
                self.stats.err("refresh", time.perf_counter() - t0, str(e))
                return
            self.stats.ok("refresh", secs)

    async def get(self, http: aiohttp.ClientSession, kind: str, url: str, token: str = "") -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        t0 = time.perf_counter()
        try:
            async with http.get(url, headers=headers) as resp:
                body = await resp.read()
                secs = time.perf_counter() - t0
                if resp.status != 200:
                    raise RuntimeError(f"HTTP {resp.status} {body[:120]!r}")
                json.loads(body)
        except Exception as e:  # noqa: BLE001
            self.stats.err(kind, time.perf_counter() - t0, f"{url}: {e}")
            return
        self.stats.ok(kind, secs)

    async def read(self, http: aiohttp.ClientSession, kind: str) -> None:
        song = f"{self.a.song}/api/song"
        if kind == "albums":
            await self.get(http, kind, f"{song}/album")
        elif kind == "album":
            await self.get(http, kind, f"{song}/album/{self.rng.choice(self.album_ids)}")
        elif kind == "songs":
            await self.get(http, kind, f"{song}/")
        elif kind == "song":
            await self.get(http, kind, f"{song}/{self.rng.choice(self.song_ids)}")
        elif kind == "search":
            await self.get(http, kind, f"{song}/search?q={self.rng.choice(SEARCH_TERMS)}")
        elif kind == "stream":
            acct = self.accounts[self.rng.randrange(len(self.accounts))]
            await self.get(http, kind, f"{song}/stream/{self.rng.choice(self.song_ids)}", acct.token)
        elif kind == "admin":
            await self.get(http, kind, f"{self.a.admin}/api/admin/album", self.admin.token)

    # -------------------------------------------------------------- phases
    async def setup(self, http: aiohttp.ClientSession) -> None:
        for acct in [*self.accounts, self.admin]:
            acct.token, acct.cookie = await self.login(http, acct, record=False)
        async with http.get(f"{self.a.song}/api/song/album") as resp:
            self.album_ids = [a["id"] for a in (await resp.json())["albums"]]
        async with http.get(f"{self.a.song}/api/song/") as resp:
            self.song_ids = [s["id"] for s in await resp.json()]
        if not self.album_ids or not self.song_ids:
            raise RuntimeError("the catalogue is empty: run ./dev up (it seeds the demo catalogue)")

    async def worker(self, http: aiohttp.ClientSession, deadline: float, login: Pacer, refresh: Pacer) -> None:
        while True:
            now = time.monotonic()
            if now >= deadline or self.count >= self.a.max_requests:
                return
            self.count += 1
            if login.take(now):
                acct = self.accounts[self.login_rr % len(self.accounts)]
                self.login_rr += 1
                await self.login(http, acct, record=True)
            elif refresh.take(now):
                acct = self.accounts[self.refresh_rr % len(self.accounts)]
                self.refresh_rr += 1
                await self.refresh(http, acct)
            else:
                kind = self.rng.choices(self.kinds, self.weights)[0]
                await self.read(http, kind)

    async def sample_rss(self, pids: dict[str, int], stop: asyncio.Event, out: dict[str, list[tuple[float, int]]]) -> None:
        t0 = time.monotonic()
        while not stop.is_set():
            now = time.monotonic() - t0
            for name, pid in pids.items():
                try:
                    with open(f"/proc/{pid}/status") as f:
                        for line in f:
                            if line.startswith("VmRSS:"):
                                out.setdefault(name, []).append((now, int(line.split()[1])))
                                break
                except OSError:
                    out.setdefault(name, []).append((now, -1))
            try:
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            except asyncio.TimeoutError:
                pass

    async def run(self, pids: dict[str, int]) -> dict:
        conn = aiohttp.TCPConnector(limit=self.a.connections, limit_per_host=0, force_close=False)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(
            connector=conn, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar(),
            headers={"User-Agent": "cadenza-soak"},
        ) as http:
            await self.setup(http)
            rss: dict[str, list[tuple[float, int]]] = {}
            stop = asyncio.Event()
            sampler = asyncio.create_task(self.sample_rss(pids, stop, rss))
            start = time.monotonic()
            # Warm-up: same traffic, not counted.
            if self.a.warmup > 0:
                warm = Pacer(self.a.login_rps, start), Pacer(self.a.refresh_rps, start)
                await asyncio.gather(*(self.worker(http, start + self.a.warmup, *warm) for _ in range(self.a.connections)))
                self.stats = Stats()
                self.count = 0
            t_measure = time.monotonic()
            cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
            own0 = sum(os.times()[:2])
            pacers = Pacer(self.a.login_rps, t_measure), Pacer(self.a.refresh_rps, t_measure)
            await asyncio.gather(
                *(self.worker(http, t_measure + self.a.duration, *pacers) for _ in range(self.a.connections))
            )
            elapsed = time.monotonic() - t_measure
            cpu = {name: cpu_seconds(pid) - cpu0[name] for name, pid in pids.items()}
            cpu["load generator"] = sum(os.times()[:2]) - own0
            stop.set()
            await sampler
            # Leave no sessions behind: end every soak session (not measured).
            for acct in self.accounts:
                try:
                    async with http.post(
                        f"{self.a.user}/api/user/logout-all", headers={"Authorization": f"Bearer {acct.token}"}
                    ) as resp:
                        await resp.read()
                except Exception:  # noqa: BLE001
                    pass
        return {"elapsed": elapsed, "rss": rss, "warmup": t_measure - start, "cpu": cpu,
                "loadavg": os.getloadavg()}


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (fields 14 and 15 of /proc/PID/stat)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[i]


def summarize(soak: Soak, result: dict, args: argparse.Namespace) -> tuple[str, dict, bool]:
    elapsed = result["elapsed"]
    rows = []
    total = total_err = 0
    kinds = ["login", "refresh", *READ_WEIGHTS]
    raw: dict = {"elapsed_s": elapsed, "connections": args.connections, "kinds": {}, "rss_kib": {}}
    for kind in kinds:
        lat = sorted(soak.stats.latencies.get(kind, []))
        n, e = len(lat), soak.stats.errors.get(kind, 0)
        total += n
        total_err += e
        p50, p99 = percentile(lat, 50) * 1000, percentile(lat, 99) * 1000
        rows.append(f"| {kind} | {n} | {e} | {soak.stats.rate_limited.get(kind, 0)} | {n / elapsed:.1f} | {p50:.1f} | {p99:.1f} |")
        raw["kinds"][kind] = {"requests": n, "errors": e, "rps": n / elapsed, "p50_ms": p50, "p99_ms": p99}
    all_lat = sorted(x for v in soak.stats.latencies.values() for x in v)
    rows.append(
        f"| **all** | {total} | {total_err} | {sum(soak.stats.rate_limited.values())} | {total / elapsed:.1f} | "
        f"{percentile(all_lat, 50) * 1000:.1f} | {percentile(all_lat, 99) * 1000:.1f} |"
    )
    lines = [
        f"Soak: {elapsed:.1f} s measured after a {result['warmup']:.1f} s warm-up, {args.connections} connections, "
        f"logins paced at {args.login_rps}/s and refreshes at {args.refresh_rps}/s over {len(soak.accounts)} soak users.",
        "",
        "| kind | requests | errors | of which 429 | rps | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "| service | RSS first 10 s (MiB) | RSS last 10 s (MiB) | change | min–max (MiB) | flat (±{:.0f}%) | CPU s |".format(
            args.rss_tolerance * 100
        ),
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    flat_all = True
    warm = result["warmup"]
    for name, samples in result["rss"].items():
        measured = [(t, v) for t, v in samples if t >= warm and v > 0]
        if len(measured) < 2 or any(v < 0 for _, v in samples):
            lines.append(f"| {name} | – | – | – | – | process gone | – |")
            flat_all = False
            continue
        t_start, t_end = measured[0][0], measured[-1][0]
        first = [v for t, v in measured if t < t_start + 10]
        last = [v for t, v in measured if t > t_end - 10]
        a, b = sum(first) / len(first), sum(last) / len(last)
        change = (b - a) / a
        flat = abs(change) <= args.rss_tolerance
        flat_all &= flat
        lo, hi = min(v for _, v in measured), max(v for _, v in measured)
        lines.append(
            f"| {name} | {a / 1024:.1f} | {b / 1024:.1f} | {change * 100:+.1f}% | {lo / 1024:.1f}–{hi / 1024:.1f} | "
            f"{'yes' if flat else 'NO'} | {result['cpu'].get(name, float('nan')):.1f} |"
        )
        raw["rss_kib"][name] = {"first10_avg": a, "last10_avg": b, "change": change, "samples": samples}
    lines.append(
        f"| load generator | | | | | | {result['cpu']['load generator']:.1f} |"
    )
    lines.append("")
    lines.append("Load average at the end: {:.2f} {:.2f} {:.2f} (2 cores).".format(*result["loadavg"]))
    raw["cpu_s"] = result["cpu"]
    if soak.stats.samples:
        lines += ["", "First errors:", *[f"- `{s}`" for s in soak.stats.samples]]
    ok = total_err == 0 and flat_all and total > 0
    raw["ok"] = ok
    return "\n".join(lines), raw, ok


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--user", default="http://127.0.0.1:5000")
    p.add_argument("--admin", default="http://127.0.0.1:5001")
    p.add_argument("--song", default="http://127.0.0.1:7000")
    p.add_argument("--accounts", required=True, help="file: one 'email password' per line (soak users)")
    p.add_argument("--admin-account", required=True, help="'email password' of an admin")
    p.add_argument("--pids", default="", help="name=pid,... to sample RSS of")
    p.add_argument("--report", help="write the Markdown summary here")
    p.add_argument("--json", help="write the raw numbers here")
    p.add_argument("--connections", type=int, default=int(os.environ.get("SOAK_CONNECTIONS", 64)))
    p.add_argument("--duration", type=float, default=env_float("SOAK_DURATION", 60))
    p.add_argument("--warmup", type=float, default=env_float("SOAK_WARMUP", 10))
    p.add_argument("--max-requests", type=int, default=int(os.environ.get("SOAK_MAX_REQUESTS", 2_000_000)))
    p.add_argument("--login-rps", type=float, default=env_float("SOAK_LOGIN_RPS", 1.0))
    p.add_argument("--refresh-rps", type=float, default=env_float("SOAK_REFRESH_RPS", 4.0))
    p.add_argument("--rss-tolerance", type=float, default=env_float("SOAK_RSS_TOLERANCE", 0.10))
    args = p.parse_args()

    for url in (args.user, args.admin, args.song):
        host = url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        if host not in ("127.0.0.1", "localhost", "[::1]"):
            sys.exit(f"soak: {url} is not a loopback address")
    with open(args.accounts) as f:
        accounts = [Account(*line.split(None, 1)) for line in f.read().splitlines() if line.strip()]
    accounts = [Account(a.email, a.password.strip()) for a in accounts]
    email, password = args.admin_account.split(None, 1)
    admin = Account(email, password)
    pids = {}
    for item in filter(None, args.pids.split(",")):
        name, _, pid = item.partition("=")
        pids[name] = int(pid)

    soak = Soak(args, accounts, admin)
    result = asyncio.run(soak.run(pids))
    text, raw, ok = summarize(soak, result, args)
    print(text)
    if args.report:
        with open(args.report, "w") as f:
            f.write(text + "\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(raw, f)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
