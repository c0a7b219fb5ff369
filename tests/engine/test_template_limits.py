"""An admin's e-mail template cannot stall the outbox: what the save check can see is refused there, and what
only a real mail's values reach fails that mail alone, within the time bound, while the rest of the round goes
out. The login code always goes out. Runs on SQLite and PostgreSQL."""

import time

import pytest

from engine.errors import InvalidInput
from engine.mail.templates import TEMPLATE_DIR
from engine.mail.transport import DevMailbox
from engine.models import OutboxMessage, OutboxStatus
from engine.services import email_templates
from engine.services.outbox import deliver_due_messages, get_mail

# Takes no loop with the sample values (contact "Dana Whitfield", code "483 921"); with anything else it runs
# 2,000 × 2,000 iterations: bounds that are not literals, so only rendering can find them.
HEAVY = "{% for a in contact_name * 200 %}{% for b in contact_name * 200 %}.{% endfor %}{% endfor %}"


def _edit(name: str, condition: str) -> str:
    source = (TEMPLATE_DIR / f"{name}.j2").read_text()
    return source.replace("{% block text %}", f"{{% block text %}}{{% if {condition} %}}{HEAVY}{{% endif %}}", 1)


def _queue(ctx, template: str, context: dict) -> int:
    with ctx.uow() as uow:
        row = OutboxMessage(template=template, audience="customer", recipient="ann@acme.example", context=context,
                            created_at=ctx.clock(), status=OutboxStatus.PENDING)
        uow.session.add(row)
        uow.commit()
        return row.id


def test_nested_range_loops_are_refused_at_save_and_nothing_is_stored(ctx):
    source = (TEMPLATE_DIR / "message_to_customer.j2").read_text().replace(
        "{% block text %}", '{% block text %}{% if sender_name != "Sam Okafor" %}{% for i in range(100000) %}'
        "{% for j in range(100000) %}x{% endfor %}{% endfor %}{% endif %}", 1)

    with pytest.raises(InvalidInput, match=r"message_to_customer, line \d+: .*loop.*template_max_iterations"):
        email_templates.save_template(ctx, "message_to_customer", source, "Alex Admin")
    assert email_templates.get_template_source(ctx, "message_to_customer")[1] is False


def test_a_heavy_branch_the_save_check_skips_fails_its_mail_and_the_next_mail_goes_out(ctx):
    email_templates.save_template(ctx, "message_to_customer",
                                  _edit("message_to_customer", 'contact_name != "Dana Whitfield"'), "Alex Admin")
    heavy = _queue(ctx, "message_to_customer", {"title": "Keys", "contact_name": "Ann Archer",
                                                "message_body": "Hello", "sender_name": "Sam"})
    ordinary = _queue(ctx, "reminder_to_customer", {"title": "Windows", "contact_name": "Ann Archer"})
    started = time.monotonic()

    results = {result.message_id: result for result in deliver_due_messages(ctx, DevMailbox())}

    assert time.monotonic() - started < ctx.settings.script_time_limit + 5
    assert results[heavy].status == OutboxStatus.FAILED and results[ordinary].status == OutboxStatus.SENT
    error = get_mail(ctx, heavy)["error"]
    assert "message_to_customer" in error and "template_max_iterations" in error
    assert "Windows" in get_mail(ctx, ordinary)["text"]


def test_a_login_code_mail_whose_edited_template_fails_goes_out_with_the_shipped_one(ctx):
    email_templates.save_template(ctx, "login_code_to_customer",
                                  _edit("login_code_to_customer", 'code != "483 921"'), "Alex Admin")
    row = _queue(ctx, "login_code_to_customer", {"code": "111 222", "valid_minutes": 10, "contact_name": "Ann"})

    [result] = deliver_due_messages(ctx, DevMailbox())

    mail = get_mail(ctx, row)
    assert result.status == OutboxStatus.SENT and "111 222" in mail["text"]
    assert "shipped template" in mail["error"] and "template_max_iterations" in mail["error"]


def test_a_login_code_mail_goes_out_when_an_edited_layout_fails(ctx):
    layout = (TEMPLATE_DIR / "base.j2").read_text().replace(
        "{% if part == \"text\" %}", f"{{% if part == \"text\" %}}{{% if code is defined and code != \"483 921\" %}}"
        f"{HEAVY}{{% endif %}}", 1)
    email_templates.save_template(ctx, "base", layout, "Alex Admin")
    row = _queue(ctx, "login_code_to_customer", {"code": "333 444", "valid_minutes": 10, "contact_name": "Ann"})
    other = _queue(ctx, "login_notice_to_customer", {"code": "1", "contact_name": "Ann", "at": "2026-03-14T09:26",
                                                     "browser": "Firefox", "client_ip": "203.0.113.7"})

    results = {result.message_id: result.status for result in deliver_due_messages(ctx, DevMailbox())}

    assert results == {row: OutboxStatus.SENT, other: OutboxStatus.FAILED}
    assert "333 444" in get_mail(ctx, row)["text"] and "base" in get_mail(ctx, other)["error"]


def test_a_mail_over_the_output_limit_is_marked_failed(ctx):
    source = (TEMPLATE_DIR / "message_to_customer.j2").read_text().replace(
        "{% block text %}", "{% block text %}{{ message_body * 2000 }}", 1)
    email_templates.save_template(ctx, "message_to_customer", source, "Alex Admin")  # the sample body is short
    row = _queue(ctx, "message_to_customer", {"title": "Keys", "message_body": "x" * 1000,
                                                       "sender_name": "Sam"})

    [result] = deliver_due_messages(ctx, DevMailbox())

    assert result.status == OutboxStatus.FAILED and "template_max_output_bytes" in get_mail(ctx, row)["error"]
