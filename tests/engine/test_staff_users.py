"""Staff account management: admins only, deactivation ends sessions, passwords of at least 12 characters."""

import pytest

from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.services import staff_auth, staff_users

PASSWORD = "correct horse battery"


@pytest.fixture
def admin(ctx):
    return staff_auth.create_staff_user(ctx, "ada@example.com", "Ada Admin", "admin", PASSWORD)


def test_admin_creates_updates_and_lists(ctx, admin):
    created = staff_users.create_user(ctx, staff=admin, email="Eli@Example.com", name="Eli", role="employee",
                                      password=PASSWORD)
    assert created["email"] == "eli@example.com" and created["active"]
    updated = staff_users.update_user(ctx, created["id"], staff=admin, name="Eli Brown", role="manager",
                                      may_send_for_approval=True)
    assert (updated["name"], updated["role"], updated["may_send_for_approval"]) == ("Eli Brown", "manager", True)
    assert [u["name"] for u in staff_users.list_staff_users(ctx, staff=admin)] == ["Ada Admin", "Eli Brown"]


def test_bad_input(ctx, admin):
    with pytest.raises(InvalidInput) as err:
        staff_users.create_user(ctx, staff=admin, email="nope", name="", role="boss", password="short")
    assert all(f"{field}: " in str(err.value) for field in ("email", "name", "role", "password"))
    with pytest.raises(InvalidInput, match="role: you cannot take away your own admin role"):
        staff_users.update_user(ctx, admin.id, staff=admin, name="Ada", role="manager")
    with pytest.raises(NotFound):
        staff_users.update_user(ctx, 999, staff=admin, name="X", role="employee")


def test_only_admins(ctx, admin):
    manager = staff_auth.create_staff_user(ctx, "mia@example.com", "Mia", "manager", PASSWORD)
    for call in (lambda: staff_users.list_staff_users(ctx, staff=manager),
                 lambda: staff_users.deactivate_user(ctx, admin.id, staff=manager),
                 lambda: staff_users.set_password(ctx, admin.id, "x" * 20, staff=manager)):
        with pytest.raises(NotAllowed):
            call()


def test_deactivate_ends_sessions_and_reactivate(ctx, admin):
    user = staff_users.create_user(ctx, staff=admin, email="eli@example.com", name="Eli", role="employee",
                                   password=PASSWORD)
    token = staff_auth.authenticate(ctx, "eli@example.com", PASSWORD)
    assert staff_auth.resolve_session(ctx, token).id == user["id"]
    assert staff_users.deactivate_user(ctx, user["id"], staff=admin)["active"] is False
    assert staff_auth.resolve_session(ctx, token) is None
    with pytest.raises(NotAllowed):
        staff_auth.authenticate(ctx, "eli@example.com", PASSWORD)
    with pytest.raises(NotAllowed):
        staff_users.deactivate_user(ctx, admin.id, staff=admin)
    staff_users.reactivate_user(ctx, user["id"], staff=admin)
    assert staff_auth.resolve_session(ctx, token) is None  # old sessions stay ended
    assert staff_auth.authenticate(ctx, "eli@example.com", PASSWORD)


def test_set_password(ctx, admin):
    user = staff_users.create_user(ctx, staff=admin, email="eli@example.com", name="Eli", role="employee",
                                   password=PASSWORD)
    token = staff_auth.authenticate(ctx, "eli@example.com", PASSWORD)
    with pytest.raises(InvalidInput, match="password: at least 12 characters"):
        staff_users.set_password(ctx, user["id"], "elevenchars", staff=admin)
    staff_users.set_password(ctx, user["id"], "a brand new secret", staff=admin)
    assert staff_auth.resolve_session(ctx, token) is None
    with pytest.raises(NotAllowed):
        staff_auth.authenticate(ctx, "eli@example.com", PASSWORD)
    assert staff_auth.authenticate(ctx, "eli@example.com", "a brand new secret")
