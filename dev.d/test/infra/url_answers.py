"""Exit 0 when a GET of URL succeeds within a second; non-zero (an exception)
when nothing answers or the answer is an HTTP error status. The probe
dev.d/test/62-infra.sh waits on its private moto server with.

    url_answers.py URL
"""
import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)
