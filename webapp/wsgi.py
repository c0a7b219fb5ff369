"""The WSGI entry point production serves: `gunicorn webapp.wsgi:app` (what `signoff serve` runs).

Each gunicorn worker imports this module and builds its own app and database pool (no --preload: a pool must
not be shared across fork). Settings come from the SIGNOFF_* environment.
"""

from webapp import create_app

app = create_app()
