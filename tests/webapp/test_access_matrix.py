"""The access matrix, generated from the app's URL map: every staff and portal route, each URL variable filled
with an id of the "narwhal" customer's object of the right kind, requested by every role, GET and (where the
route allows it) POST.

Someone outside the narwhal customer gets "not found" (403 where the role may not use the route at all, a
redirect to the login page when not logged in), never a page with narwhal data, never a change to it, never a
500. Its own manager, its own contact and the admin prove that the ids are real. A route whose variable the
generator cannot fill fails the test, so a new route cannot escape the matrix. It runs on SQLite and PostgreSQL
(about 15 and 19 seconds on the project's machine).
"""

import pytest
from werkzeug.routing import Rule

from tests.webapp.access_world import KEYS, Side, build_world, fill, log_in, requests, routes, side_state
from webapp import create_app

TARGET = "narwhal"
PUBLIC = {"staff.login", "staff.logout", "portal.login", "portal.code", "portal.logout"}
STAFF_IN_PORTAL = {"portal.staff_view"}  # a portal route for a staff login (admins)
# behind the staff login (every other blueprint but devmail is behind the portal's)
STAFF_BLUEPRINTS = {"staff", "processes", "instances", "monitor", "migrations"}
# the portal's one-click links from e-mails: the signed token is the credential; the matrix's token binds the
# target's task to the other side's contact, so every role gets the portal's "not valid for you" page (410) and
# nothing changes
LINK_ROUTES = {"portal.email_decision", "portal.email_decision_post"}
# a form that names the target's objects in every field a page might read an id or a decision from
FORM_FIELDS = ("customer_id", "job_id", "contact_id", "employee_id", "registration_id", "task_id", "visit_id",
               "timer_id", "to")
ROLES = {  # role -> (staff e-mail or None, contact e-mail or None, may see the target)
    "anonymous": (None, None, False),
    "admin": ("ada@example.com", None, True),
    "manager_own": ("bo@example.com", None, True),
    "manager_foreign": ("max@example.com", None, False),
    "employee_own": ("fay@example.com", None, True),
    "employee_foreign": ("eli@example.com", None, False),
    "contact_foreign": (None, "contact@quokka.example", False),
    "contact_own": (None, "contact@narwhal.example", True),
}

def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].split("?")[0] in ("/login", "/portal/login")


def verdict(role: str, rule: Rule, method: str, response, marker: str) -> str | None:
    """What is wrong with this answer for this role, or None."""
    staff, contact, sees = ROLES[role]
    blueprint = rule.endpoint.partition(".")[0]
    status = response.status_code
    if status >= 500:
        return f"{status}"
    if rule.endpoint in PUBLIC or blueprint == "devmail":
        return None
    if rule.endpoint in LINK_ROUTES:
        shown = not sees and marker.encode() in response.data.lower()
        return None if status == 410 and not shown else f"{status} for a link{' showing ' + marker if shown else ''}"
    logged_in = staff if blueprint in STAFF_BLUEPRINTS or rule.endpoint in STAFF_IN_PORTAL else contact
    if not logged_in:
        # without the blueprint's login: the login page, or refused
        return None if _is_login_redirect(response) or status in (401, 403, 404) else f"{status} without a login"
    if sees:
        if method == "GET" and rule.arguments and status == 404:
            return "404 for an id the role sees: the matrix fills this variable with the wrong kind of id"
        return None
    if rule.arguments:
        return None if status in (403, 404) else f"{status} for another customer's id (want 404, or 403)"
    if method == "GET" and status == 200 and marker.encode() in response.data.lower():
        return f"shows {marker} data"
    return None


def test_every_route_variable_can_be_filled(ctx):
    """Cheap and first: a route added with a variable the generator does not know fails here by name."""
    app = create_app(ctx=ctx, config={"TESTING": True})
    side = Side(TARGET, "", "", "", ids=dict.fromkeys(
        ("customer_id", "job_id", "registration_id", "visit_id", "photo_id", "contact_id", "employee_id",
         "user_id", "invoice_id", "document_id", "entry_id", "resource_id", "name", "instance_id",
         "manager_task_id", "customer_task_id", "mail_id", "token"), 1))
    unknown = []
    for rule in routes(app):
        try:
            fill(rule, side)
        except LookupError as err:
            unknown.append(str(err))
    assert unknown == []


@pytest.mark.parametrize("role", sorted(ROLES))
def test_a_role_gets_only_what_its_scope_allows(ctx, deploy, clock, role):
    world = build_world(ctx, deploy, clock)
    target = world[TARGET]
    app = create_app(ctx=ctx, config={"TESTING": True, "WTF_CSRF_ENABLED": False})
    client = log_in(app, ctx, *ROLES[role][:2])
    form = {name: str(target.ids[KEYS.get(("staff", name), name)]) for name in FORM_FIELDS}
    form.update(decision="approve", verdict="approve", comment="matrix", text="matrix", title="matrix",
                name="matrix", reason="matrix", granted="1", shown="1")
    before = side_state(ctx, target)
    problems = []
    for rule, method in requests(app):
        url = fill(rule, target)
        try:
            response = client.open(url, method=method, data=form if method == "POST" else None)
        except Exception as err:  # noqa: BLE001 - TESTING propagates a view's exception: that is the 500
            problems.append(f"{method} {url} ({rule.endpoint}): raised {err!r}")
            continue
        if (problem := verdict(role, rule, method, response, TARGET)) is not None:
            problems.append(f"{method} {url} ({rule.endpoint}): {problem}")
    assert problems == []
    if not ROLES[role][2]:
        assert side_state(ctx, target) == before, f"{role} changed {TARGET}'s data"
