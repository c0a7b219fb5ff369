"""The pool's pre-ping on PostgreSQL reads the idle socket instead of sending `SELECT 1` (engine.db): a
connection the server has dropped must still be replaced before a transaction uses it."""

import sqlalchemy as sa

from engine.db import make_engine


def test_a_connection_the_server_dropped_is_replaced_on_checkout(postgres_url):
    engine = make_engine(postgres_url)
    admin = make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            victim = conn.scalar(sa.text("SELECT pg_backend_pid()"))
        with admin.connect() as other:
            assert other.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": victim})
            gone = sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
            while other.scalar(gone, {"pid": victim}):  # the backend exits asynchronously
                other.rollback()
        with engine.connect() as conn:  # the pooled connection is dead: the ping must say so
            assert conn.scalar(sa.text("SELECT pg_backend_pid()")) != victim
    finally:
        engine.dispose()
        admin.dispose()


def test_a_live_idle_connection_is_reused(postgres_url):
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            first = conn.scalar(sa.text("SELECT pg_backend_pid()"))
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT pg_backend_pid()")) == first
    finally:
        engine.dispose()
