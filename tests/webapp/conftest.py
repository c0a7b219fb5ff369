"""Web app fixtures: an app over the `ctx` fixture (SQLite and PostgreSQL), staff accounts, a logged-in client."""

import pytest

from engine.services.customers import create_customer
from engine.services.instances import start_instance
from engine.services.staff_auth import create_staff_user
from engine.services.timers import fire_due_timers
from tests.engine.helpers import JOB_START
from webapp import create_app

PASSWORD = "correct horse battery"


@pytest.fixture
def app(ctx):
    return create_app(ctx=ctx, config={"TESTING": True, "WTF_CSRF_ENABLED": False})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def manager(ctx):
    return create_staff_user(ctx, "mia@example.com", "Mia Manager", "manager", PASSWORD)


@pytest.fixture
def employee(ctx):
    return create_staff_user(ctx, "eli@example.com", "Eli Employee", "employee", PASSWORD)


def log_in(client, email: str, password: str = PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def as_manager(client, manager):
    assert log_in(client, manager.email).status_code == 302
    return client


@pytest.fixture
def escalated_job(ctx, deploy, clock, manager):
    """Two job_approval instances of a customer of Mia's: one escalated to the Manager lane, one still with the
    customer."""
    deploy("bpmn/job_approval.bpmn")
    start = {**JOB_START, "customer_id": create_customer(ctx, staff=manager, name="Mill House")["id"]}
    escalated = start_instance(ctx, "job_approval", {**start, "period_end_action": "escalate"})
    fire_due_timers(ctx, clock.advance(days=8))
    waiting = start_instance(ctx, "job_approval", {**start, "title": "Windows, December"})
    return escalated, waiting
