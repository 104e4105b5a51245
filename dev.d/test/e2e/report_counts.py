"""Counts of a Playwright JSON report, for dev.d/test/70-e2e.sh.

    python3 report_counts.py REPORT.json

Prints "PASSED FAILED SKIPPED" on one line. Failed counts the unexpected
results plus the report's top-level errors (a file that does not load, a
hook that fails outside a test); passed counts the expected and the flaky
ones (no retries are configured, so flaky stays 0). Each failed test's
title, first error line and attachments (the screenshots of
`screenshot: 'only-on-failure'`) go to stderr. A missing or unreadable
report prints "0 1 0".
"""

import json
import re
import sys

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def first_line(message):
    """The first non-empty line of an error message, without colour codes."""
    lines = ANSI.sub("", message or "").strip().splitlines()
    return lines[0] if lines else ""


def failures(suite, path=()):
    """(title path, result) of every failed result under `suite`."""
    here = path + ((suite["title"],) if suite.get("title") else ())
    for spec in suite.get("specs", []):
        for test in spec.get("tests", []):
            for result in test.get("results", []):
                if result.get("status") not in ("passed", "skipped"):
                    yield here + (spec["title"],), result
    for child in suite.get("suites", []):
        yield from failures(child, here)


def main(report):
    try:
        with open(report, encoding="utf-8") as f:
            data = json.load(f)
        stats = data["stats"]
    except (OSError, ValueError, KeyError) as err:
        print(f"e2e: no usable JSON report at {report}: {err}", file=sys.stderr)
        print("0 1 0")
        return
    errors = data.get("errors", [])
    passed = stats.get("expected", 0) + stats.get("flaky", 0)
    failed = stats.get("unexpected", 0) + len(errors)
    skipped = stats.get("skipped", 0)
    for err in errors:
        print(f"e2e: error: {first_line(err.get('message'))}", file=sys.stderr)
    for titles, result in (f for s in data.get("suites", []) for f in failures(s)):
        message = first_line((result.get("error") or {}).get("message"))
        print(f"e2e: FAILED {' › '.join(titles)} ({result.get('status')}): {message}", file=sys.stderr)
        shown = set()
        for a in result.get("attachments", []):
            if a.get("path") and a["path"] not in shown:
                shown.add(a["path"])
                print(f"e2e:   {a.get('name')}: {a['path']}", file=sys.stderr)
    print(passed, failed, skipped)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
