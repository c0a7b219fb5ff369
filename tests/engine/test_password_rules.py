"""Password rules for staff accounts: every place a password is set (CLI, admin form, own change) refuses the same."""

import pytest

from engine.errors import InvalidInput, NotAllowed
from engine.services import staff_auth, staff_users
from engine.services.password_rules import common_passwords, password_problem
from engine.services.staff_auth import authenticate, change_password, create_staff_user, resolve_session
from tests.conftest import STAFF_PASSWORD

REFUSED = {
    "short": "at least 12 characters",
    "Password2024!": "most common",
    "p@ssw0rd12345": "most common",
    "iloveyou1234": "most common",
    "aaaaaaaaaaaaaaaa": "repetitive",
    "abcabcabcabc": "repetitive",
    "trustno1trustno1": "repetitive",
    "123456789012": "run of",
    "qwertyuiopasdf": "run of",
    "zyxwvutsrqponm": "run of",
    "robin.jansen.2026": "your name",
    "my name is Jansen ok": "your name",
}


@pytest.mark.parametrize("password,reason", REFUSED.items())
def test_weak_passwords_are_refused_with_the_reason(password, reason):
    problem = password_problem(password, min_length=12, email="robin.jansen@example.com", name="Robin Jansen")
    assert problem and problem.startswith("password: ") and reason in problem


@pytest.mark.parametrize("password", [STAFF_PASSWORD, "signoff-demo-2026", "tulip harbour violin 7"])
def test_long_uncommon_passwords_are_accepted(password):
    assert password_problem(password, min_length=12, email="robin.jansen@example.com", name="Robin Jansen") is None


def test_the_shipped_list_has_thousands_of_lower_case_entries():
    words = common_passwords()
    assert len(words) > 2000 and all(word == word.lower() for word in words)
    assert {"password", "123456", "qwerty", "iloveyou"} <= words


def test_create_and_admin_set_password_apply_the_rules(ctx, admin_staff):
    with pytest.raises(InvalidInput, match="password: one of the most common"):
        create_staff_user(ctx, "sam@example.com", "Sam Smith", "employee", "Password123!")
    user = staff_users.create_user(ctx, staff=admin_staff, email="sam@example.com", name="Sam Smith",
                                   role="employee", password=STAFF_PASSWORD)
    with pytest.raises(InvalidInput, match="password: must not contain your name"):
        staff_users.set_password(ctx, user["id"], "smith family 2026", staff=admin_staff)
    assert authenticate(ctx, "sam@example.com", STAFF_PASSWORD)


def test_own_change_needs_the_current_password_and_ends_the_other_sessions(ctx, manager_staff):
    here = authenticate(ctx, manager_staff.email, STAFF_PASSWORD)
    elsewhere = authenticate(ctx, manager_staff.email, STAFF_PASSWORD)
    with pytest.raises(InvalidInput, match="current_password: "):
        change_password(ctx, here, "not my password", "tulip harbour violin 7", "198.51.100.7")
    with pytest.raises(InvalidInput, match="password: one of the most common"):
        change_password(ctx, here, STAFF_PASSWORD, "qwerty123456!", "198.51.100.7")
    with pytest.raises(InvalidInput, match="not your current one"):
        change_password(ctx, here, STAFF_PASSWORD, STAFF_PASSWORD, "198.51.100.7")
    assert resolve_session(ctx, elsewhere)  # refused changes end nothing
    change_password(ctx, here, STAFF_PASSWORD, "tulip harbour violin 7", "198.51.100.7")
    assert resolve_session(ctx, here) and resolve_session(ctx, elsewhere) is None
    with pytest.raises(NotAllowed):
        authenticate(ctx, manager_staff.email, STAFF_PASSWORD)
    assert authenticate(ctx, manager_staff.email, "tulip harbour violin 7")


def test_wrong_current_passwords_count_towards_the_lock(ctx, manager_staff):
    token = authenticate(ctx, manager_staff.email, STAFF_PASSWORD)
    for _ in range(ctx.settings.staff_login_failures_per_account):
        with pytest.raises(InvalidInput):
            change_password(ctx, token, "a wrong guess!", "tulip harbour violin 7", "198.51.100.7")
    with pytest.raises(staff_auth.Throttled):
        change_password(ctx, token, STAFF_PASSWORD, "tulip harbour violin 7", "198.51.100.7")
