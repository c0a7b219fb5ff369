"""The staff blueprint: login, logout, inbox and task pages."""

from flask import Blueprint

bp = Blueprint("staff", __name__)

from webapp.staff import customers  # noqa: E402, F401, I001 - customer and job pages on bp
from webapp.staff import views  # noqa: E402, F401 - registers the routes on bp
