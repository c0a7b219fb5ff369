"""The WSGI entry point production serves: `gunicorn webapp.wsgi:app` (what `signoff serve` runs).

Each gunicorn worker imports this module and builds its own app and database pool (no --preload: a pool must
not be shared across fork). Settings come from the SIGNOFF_* environment.

Then the objects built so far (modules, the app, mappers: ~150,000) are frozen out of the garbage collector:
they live as long as the worker, yet every full collection walked them all, ~70 ms once every ~100 page views
(~0.7 ms per request and a pause in someone's response). Collecting first leaves no start-up garbage behind.
"""

import gc

from webapp import create_app

app = create_app()
gc.collect()
gc.freeze()
