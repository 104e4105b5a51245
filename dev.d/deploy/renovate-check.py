#!/usr/bin/env python3
"""Checks that renovate.json's regex managers see what they are meant to:
every `*_IMAGE:` variable of .gitlab-ci.yml is matched by the custom manager
(a regex that silently matches nothing would leave those images unpinned and
never updated), with a repository name and a tag.

Usage: renovate-check.py renovate.json .gitlab-ci.yml
"""
import json
import re
import sys

import yaml


def main(renovate_path, ci_path):
    config = json.load(open(renovate_path))
    text = open(ci_path).read()
    wanted = {k: v for k, v in (yaml.safe_load(text).get("variables") or {}).items() if k.endswith("_IMAGE")}
    if not wanted:
        print(f"{ci_path}: no *_IMAGE variables: nothing to check")
        return 1
    seen = {}
    for manager in config.get("customManagers", []):
        if not any("gitlab-ci" in p for p in manager.get("managerFilePatterns", [])):
            continue
        for js in manager["matchStrings"]:
            # Renovate's patterns are JavaScript: (?<name>...) is (?P<name>...) here.
            pattern = re.compile(re.sub(r"\(\?<([A-Za-z]+)>", r"(?P<\1>", js))
            for m in pattern.finditer(text):
                seen[m.group("depName")] = m.group("currentValue")
    bad = []
    for name, ref in wanted.items():
        repo, _, tag = ref.partition("@")[0].rpartition(":")
        if seen.get(repo) != tag:
            bad.append(f"{ci_path}: {name}={ref} is not matched by renovate.json's custom manager")
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
