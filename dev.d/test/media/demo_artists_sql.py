"""Print the artists of the demo catalogue (dev.d/demo/catalogue.py, found on
PYTHONPATH) as an SQL list of quoted strings: 'A','B',... for
dev.d/test/73-media.sh.

    PYTHONPATH=dev.d/demo demo_artists_sql.py
"""
import catalogue; print(",".join("'%s'" % a["artist"].replace("'", "''") for a in catalogue.ALBUMS))
