"""Judge one `trivy config --format json` run for dev.d/test/60-deploy.sh
(trivy_config): print every failed misconfiguration, and fail when trivy
failed (its exit code) or scanned no file at all (trivy skips a chart it
cannot render, silently).

    trivy_result.py REPORT.json NAME TRIVY_EXIT_CODE
"""
import json, sys
path, name, rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
results = json.load(open(path)).get("Results") or []
scanned = [r for r in results if r.get("MisconfSummary")]
for r in results:
    for m in r.get("Misconfigurations") or []:
        if m.get("Status") == "FAIL":
            print(f"    | {r['Target']}: {m['ID']} ({m['Severity']}) {m['Title']}")
if not scanned:
    print(f"    | trivy scanned nothing for {name} (see {path[:-5]}.log)")
sys.exit(1 if rc or not scanned else 0)
