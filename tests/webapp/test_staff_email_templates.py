"""Admins edit, preview and reset the e-mail templates; a broken edit is refused and nothing is stored."""

import pytest

from engine.mail.templates import SAMPLE_CONTEXT, render_mail
from engine.services import email_templates
from engine.services.staff_auth import create_staff_user
from tests.webapp.conftest import PASSWORD, log_in

NAME = "reminder_to_customer"


@pytest.fixture
def as_admin(client, ctx):
    create_staff_user(ctx, "ada@example.com", "Ada Admin", "admin", PASSWORD)
    log_in(client, "ada@example.com")
    return client


def test_the_list_and_a_preview_show_the_mail_as_it_goes_out(as_admin):
    listing = as_admin.get("/settings/email-templates").get_data(as_text=True)
    assert f"/settings/email-templates/{NAME}" in listing and "shipped" in listing
    page = as_admin.get(f"/settings/email-templates/{NAME}").get_data(as_text=True)
    assert f"Reminder: please approve {SAMPLE_CONTEXT['title']}" in page and "sandbox srcdoc=" in page


def test_an_edit_is_used_by_the_next_mail_and_can_be_reset(ctx, as_admin):
    source, _ = email_templates.get_template_source(ctx, NAME)
    edited = source.replace("Reminder: please approve", "Still waiting for you:")
    saved = as_admin.post(f"/settings/email-templates/{NAME}", data={"source": edited}, follow_redirects=True)
    assert "Still waiting for you:" in saved.get_data(as_text=True) and "edited by Ada Admin" in \
        as_admin.get("/settings/email-templates").get_data(as_text=True)
    assert email_templates.preview_template(ctx, NAME)["subject"].startswith("Still waiting for you:")
    as_admin.post(f"/settings/email-templates/{NAME}/reset")
    assert email_templates.get_template_source(ctx, NAME) == (source, False)


def test_a_broken_edit_is_refused_with_its_reason_and_nothing_is_stored(ctx, as_admin):
    bad = as_admin.post(f"/settings/email-templates/{NAME}",
                        data={"source": '{% extends "base.j2" %}{% block subject %}{{ no_such_thing }}{% endblock %}'})
    assert bad.status_code == 400 and "no_such_thing" in bad.get_data(as_text=True)
    assert email_templates.get_template_source(ctx, NAME)[1] is False
    escape = as_admin.post(f"/settings/email-templates/{NAME}", data={
        "source": '{% extends "base.j2" %}{% block subject %}{{ title.__class__.__mro__ }}{% endblock %}'
                  "{% block text %}x{% endblock %}{% block html %}x{% endblock %}"})
    assert escape.status_code == 400 and email_templates.get_template_source(ctx, NAME)[1] is False
    assert render_mail(NAME, SAMPLE_CONTEXT).subject.startswith("Reminder")


def test_only_admins_edit_templates(client, as_manager):
    assert as_manager.get("/settings/email-templates").status_code == 403
    assert as_manager.post(f"/settings/email-templates/{NAME}", data={"source": "x"}).status_code == 403
    assert as_manager.get("/settings/email-templates/nonsense").status_code == 403
