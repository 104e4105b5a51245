#!/usr/bin/env python3
"""Every key of a chart's values.yaml must be documented: a comment line right
above it, or an inline comment. Keys inside standard Kubernetes structures
(label selectors, NetworkPolicy peers) are documented by their parent.
Usage: values-doc-check.py values.yaml"""
import re
import sys

EXEMPT_UNDER = {"matchLabels", "namespaceSelector", "podSelector", "peers", "ipBlock"}
KEY = re.compile(r"^(\s*)(- )?([A-Za-z_][\w./-]*):(.*)$")


def main(path):
    lines = open(path).read().split("\n")
    stack = []  # (indent, key)
    bad = []
    for i, line in enumerate(lines):
        m = KEY.match(line)
        if not m or line.lstrip().startswith("#"):
            continue
        indent = len(m.group(1)) + (2 if m.group(2) else 0)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        exempt = any(k in EXEMPT_UNDER for _, k in stack)
        stack.append((indent, m.group(3)))
        if exempt:
            continue
        j = i - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        above = j >= 0 and lines[j].strip().startswith("#")
        inline = " #" in m.group(4)
        if not (above or inline):
            bad.append(f"{path}:{i + 1}: undocumented value '{m.group(3)}'")
    for b in bad:
        print(b)
    print(f"values-doc-check: {len(bad)} undocumented keys")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
