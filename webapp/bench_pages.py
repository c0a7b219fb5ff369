"""The web half of `signoff bench`'s read measures: page timings through Flask's test client.

Run as `python -m webapp.bench_pages` with a JSON spec on stdin (database URL, samples, pages with the session
cookie to send); prints {page name: [ms, ...]} on stdout. It lives in webapp because the engine never imports
Flask; engine.bench.reads seeds the database and the sessions and runs this module in a subprocess.
"""

import json
import sys
import time

from engine.config import Settings
from webapp import create_app


def time_pages(spec: dict) -> dict[str, list[float]]:
    app = create_app(Settings(database_url=spec["database_url"]), config={"TESTING": True})
    timings: dict[str, list[float]] = {}
    for page in spec["pages"]:
        client = app.test_client()
        client.set_cookie(page["cookie"], page["token"])
        ms = []
        for n in range(spec["samples"] + 1):  # the first request warms the caches and is not counted
            started = time.perf_counter()
            response = client.get(page["path"])
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{page['path']} answered {response.status_code}")
            if n:
                ms.append(elapsed)
        timings[page["name"]] = ms
    return timings


if __name__ == "__main__":
    json.dump(time_pages(json.load(sys.stdin)), sys.stdout)
