#!/usr/bin/env python3
"""Fail when a GitLab CI job runs an image whose ENTRYPOINT is a program
(alpine/git -> git, kaniko -> executor, trivy -> trivy, aws-cli -> aws)
without `entrypoint: [""]`: the runner would start `git sh -c ...`.

Usage: ci-entrypoints.py .gitlab-ci.yml
Image names given as $VARIABLES are resolved from the top-level variables.
"""
import re
import sys

import yaml

# Images known to set a non-shell ENTRYPOINT (docker inspect), by repository.
PROGRAM_ENTRYPOINTS = re.compile(
    r"(^|/)(alpine/git|kaniko-project/executor|aquasec/trivy|amazon/aws-cli|bitnami/kubectl|"
    r"hashicorp/terraform|gcr\.io/go-containerregistry/crane)(:|@|$)")


def main(path):
    doc = yaml.safe_load(open(path))
    variables = {k: (v["value"] if isinstance(v, dict) else v) for k, v in (doc.get("variables") or {}).items()}
    bad = []
    for name, job in doc.items():
        if not isinstance(job, dict) or "image" not in job:
            continue
        image = job["image"]
        ref = image.get("name", "") if isinstance(image, dict) else image
        ref = re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: str(variables.get(m.group(1), m.group(0))), ref)
        if not PROGRAM_ENTRYPOINTS.search(ref):
            continue
        if not (isinstance(image, dict) and image.get("entrypoint") == [""]):
            bad.append(f"{path}: job {name}: image {ref} has a program ENTRYPOINT; set image.entrypoint: [\"\"]")
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
