"""The monitor blueprint (/monitor, managers and admins): a process version's diagram with where its cases wait
now and how long its user tasks take, for a period and a customer (pages.py), the same numbers as a table."""

from flask import Blueprint

bp = Blueprint("monitor", __name__, url_prefix="/monitor")


from webapp.monitor import pages  # noqa: E402, F401, I001 - register the routes on bp
