"""Malformed input on every route, generated from the app's URL map like the access matrix: ids beyond what the
database holds, huge integer and far-off date query parameters, CR/LF, NUL bytes and invalid UTF-8 in query
strings and forms. The answer is a 400 with a message where the input cannot be used (NUL, invalid UTF-8, an id
too large), and never a 500. On SQLite and PostgreSQL: PostgreSQL is the one that refuses NUL bytes and integers
beyond its INTEGER columns, where SQLite would quietly accept them.
"""

import io
from urllib.parse import quote

import pytest

from engine.config import Settings
from engine.services.context import open_context
from tests.webapp.access_world import KEYS, build_world, fill, log_in, requests
from webapp import create_app

HUGE = 99999999999999999999
INT_ARGS = ("customer", "employee", "job", "visit")
DATE_ARGS = ("from", "to", "date_from", "date_to", "anchor")
TEXT_ARGS = ("q", "kind", "status", "process", "due", "view", "next", "download", "archived", "cursor")


@pytest.fixture
def ctx(database_url, clock, tmp_path):
    """The company in Amsterdam, as in make demo: a time entered in year 1 would be in year 0 in UTC."""
    context = open_context(Settings(database_url=database_url, upload_dir=str(tmp_path / "uploads"),
                                    timezone="Europe/Amsterdam"), clock=clock)
    yield context
    context.db.dispose()


TEXT_FIELDS = ("name", "text", "title", "url", "comment", "subject", "body", "email", "reason", "decision", "verdict",
               "description", "code", "password", "kind", "number", "amount", "minutes", "note")
ID_FIELDS = ("customer_id", "job_id", "contact_id", "employee_id", "registration_id", "task_id")
DATE_FIELDS = ("work_date", "planned_start", "planned_end", "checked_in_at", "checked_out_at", "issued_on",
               "period_start", "period_end")
FIELDS = TEXT_FIELDS + ID_FIELDS + DATE_FIELDS


def _query(names, value: str) -> str:
    return "&".join(f"{name}={value}" for name in names)


# name -> (query string or form body, already percent-encoded; must the answer be a 400?)
QUERIES = {
    "huge integers": (_query(INT_ARGS, str(HUGE)), False),
    "year 9999": (_query(DATE_ARGS, "9999-12-31"), False),
    "year 1": (_query(DATE_ARGS, "0001-01-01"), False),
    "CR/LF": (_query(INT_ARGS + DATE_ARGS + TEXT_ARGS, quote("x\r\nSet-Cookie: a=b")), False),
    "NUL": (_query(INT_ARGS + DATE_ARGS + TEXT_ARGS, "x%00y"), True),
    "invalid UTF-8": (_query(INT_ARGS + DATE_ARGS + TEXT_ARGS, "x%ff%fey"), True),
}
FORMS = {  # name -> (the fields it sets, the value, already percent-encoded; must the answer be a 400?)
    "huge integers": (FIELDS, str(HUGE), False),
    "year 9999": (DATE_FIELDS, "9999-12-31T23:59", False),
    "year 1": (DATE_FIELDS, "0001-01-01T00:00", False),
    "year 9999 days": (DATE_FIELDS, "9999-12-31", False),
    "year 1 days": (DATE_FIELDS, "0001-01-01", False),
    "CR/LF": (FIELDS, quote("x\r\nBcc: all@example.com"), False),
    "NUL": (FIELDS, "x%00y", True),
    "invalid UTF-8": (FIELDS, "x%ff%fey", True),
}
RAW_INVALID = b"name=\xff\xfe&text=\xc3"  # not percent-encoded: werkzeug would drop the whole form
FORM = "application/x-www-form-urlencoded"


def _check(client, problems: list, method: str, url: str, must_400: bool, what: str, **kwargs) -> None:
    try:
        response = client.open(url, method=method, **kwargs)
    except Exception as err:  # noqa: BLE001 - TESTING propagates a view's exception: that is the 500
        problems.append(f"{method} {url} with {what}: raised {err!r}")
        return
    if response.status_code >= 500 or (must_400 and response.status_code != 400):
        problems.append(f"{method} {url} with {what}: {response.status_code}")
    elif response.status_code == 400 and b"<h1>" not in response.data and b"error" not in response.data.lower():
        problems.append(f"{method} {url} with {what}: 400 without a message")


@pytest.mark.parametrize("staff, contact", [("ada@example.com", None), (None, "contact@narwhal.example")],
                         ids=["admin", "contact"])
def test_no_route_answers_malformed_input_with_a_500(ctx, deploy, clock, staff, contact):
    side = build_world(ctx, deploy, clock)["narwhal"]
    app = create_app(ctx=ctx, config={"TESTING": True, "WTF_CSRF_ENABLED": False})
    client = log_in(app, ctx, staff, contact)
    base = {**dict.fromkeys(TEXT_FIELDS, "x"), **{name: str(side.ids[KEYS.get(("staff", name), name)])
                                                   for name in ID_FIELDS}, **dict.fromkeys(DATE_FIELDS, "2026-11-03")}
    base.update(decision="approve", verdict="approve", kind="hours", amount="1", minutes="60")
    problems: list[str] = []
    for rule, method in requests(app):
        url = fill(rule, side)
        if any(rule._converters[name].__class__.__name__ == "IdConverter" for name in rule.arguments):
            for number in (HUGE, 2**31):
                _check(client, problems, method, fill(rule, side, number), True, f"id {number}")
        if method == "GET":
            for what, (query, must_400) in QUERIES.items():
                _check(client, problems, method, f"{url}?{query}", must_400, what)
        else:
            for what, (fields, value, must_400) in FORMS.items():
                body = _query(fields, value) + "&" + "&".join(f"{name}={quote(base[name])}" for name in FIELDS
                                                             if name not in fields)
                _check(client, problems, method, url, must_400, what, data=body, content_type=FORM)
            _check(client, problems, method, url, True, "raw invalid UTF-8", data=RAW_INVALID, content_type=FORM)
    assert problems == []


def test_a_huge_customer_filter_is_a_400_naming_the_parameter(ctx, deploy, clock):
    build_world(ctx, deploy, clock)
    client = log_in(create_app(ctx=ctx, config={"TESTING": True, "WTF_CSRF_ENABLED": False}), ctx,
                    "ada@example.com", None)
    for url in ("/approvals", "/registrations", "/visits"):
        response = client.get(f"{url}?customer={HUGE}")
        assert response.status_code == 400 and b"customer: too large" in response.data
    response = client.get(f"/tasks/{HUGE}")
    assert response.status_code == 400 and b"not a valid id" in response.data


def test_a_nul_byte_in_a_multipart_field_is_a_400(ctx, deploy, clock):
    side = build_world(ctx, deploy, clock)["narwhal"]
    client = log_in(create_app(ctx=ctx, config={"TESTING": True, "WTF_CSRF_ENABLED": False}), ctx,
                    "ada@example.com", None)
    cid = side.ids["customer_id"]
    response = client.post(f"/customers/{cid}/resources/file", content_type="multipart/form-data",
                           data={"title": "plan\x00", "file": (io.BytesIO(b"x"), "plan.txt")})
    assert response.status_code == 400 and b"NUL byte" in response.data
