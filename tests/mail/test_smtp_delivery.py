"""Outbox delivery to a real SMTP server (aiosmtpd on 127.0.0.1), on SQLite and PostgreSQL."""

import email
import email.policy
import socket
import threading
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine.errors import InvalidInput
from engine.mail.transport import SmtpTransport
from engine.models import OutboxMessage, OutboxStatus
from engine.services.email_templates import get_template_source, reset_template, save_template
from engine.services.instances import complete_task, start_instance
from engine.services.outbox import BACKOFF_BASE_SECONDS, deliver_due_messages, deliver_message
from tests.engine.helpers import JOB_START, only_open_task

CUSTOMER = "dana@millhouse.example"
MANAGER = "sam@brightwater.example"
TITLE = JOB_START["title"]


class RecordingHandler:
    """Keeps every accepted message; answers 451 for the next `refuse` messages when asked."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse = 0
        self.refused = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._lock:
            if self.refuse > 0:
                self.refuse -= 1
                self.refused += 1
                return "451 4.3.0 Try again later"
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def with_id(self, message_id: str) -> list:
        return [m for m in self.messages if m["Message-ID"] == message_id]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    def __init__(self) -> None:
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list:
        return self.handler.messages

    def transport(self) -> SmtpTransport:
        return SmtpTransport(f"smtp://127.0.0.1:{self.port}", timeout=10)


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture
def job(ctx, deploy):
    deploy("bpmn/job_approval.bpmn")

    def start(**overrides):
        data = {**JOB_START, "customer_email": CUSTOMER, "manager_email": MANAGER, **overrides}
        return start_instance(ctx, "job_approval", {k: v for k, v in data.items() if v is not None})

    return start


def rows(ctx, instance_id: int, template: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.instance_id == instance_id).order_by(OutboxMessage.id)
    if template:
        query = query.where(OutboxMessage.template == template)
    with ctx.uow() as uow:
        return list(uow.session.scalars(query))


def one_row(ctx, instance_id: int, template: str) -> OutboxMessage:
    found = rows(ctx, instance_id, template)
    assert len(found) == 1, found
    return found[0]


def bodies(message) -> tuple[str, str]:
    return (message.get_body(preferencelist=("plain",)).get_content(),
            message.get_body(preferencelist=("html",)).get_content())


def test_the_approval_request_reaches_the_customer(ctx, job, smtp, clock):
    iid = job()
    row = one_row(ctx, iid, "approval_request_to_customer")
    results = deliver_due_messages(ctx, smtp.transport())
    assert [(r.message_id, r.status) for r in results] == [(row.id, "sent")]
    [message] = smtp.messages
    assert message["From"] == ctx.settings.mail_from
    assert message["To"] == CUSTOMER
    assert TITLE in message["Subject"]
    assert message["Message-ID"] == f"<outbox-{row.id}@signoff>"
    text, html = bodies(message)
    assert TITLE in text and TITLE in html
    assert "<p" in html and "<p" not in text
    sent = one_row(ctx, iid, "approval_request_to_customer")
    assert sent.status == OutboxStatus.SENT and sent.sent_at == clock.now
    assert sent.attempts == 1 and sent.last_error is None and sent.transport == "smtp"


def test_delivering_again_sends_nothing_more(ctx, job, smtp, clock):
    iid = job()
    row = one_row(ctx, iid, "approval_request_to_customer")
    deliver_due_messages(ctx, smtp.transport())
    clock.advance(hours=1)
    assert deliver_due_messages(ctx, smtp.transport()) == []
    assert deliver_message(ctx, row.id, smtp.transport()) is None
    assert len(smtp.messages) == 1


def test_two_concurrent_deliveries_of_one_row_send_it_once(ctx, job, smtp):
    iid = job()
    row = one_row(ctx, iid, "approval_request_to_customer")
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            barrier.wait(timeout=10)
            results.append(deliver_message(ctx, row.id, smtp.transport()))
        except Exception as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(str(r.status) if r else "None" for r in results) == ["None", "sent"]
    assert len(smtp.handler.with_id(row.message_id)) == 1
    assert one_row(ctx, iid, "approval_request_to_customer").status == OutboxStatus.SENT


def test_a_temporary_refusal_is_retried_after_the_backoff(ctx, job, smtp, clock):
    iid = job()
    row = one_row(ctx, iid, "approval_request_to_customer")
    smtp.handler.refuse = 1
    [result] = deliver_due_messages(ctx, smtp.transport())
    assert result.status == OutboxStatus.PENDING and "451" in result.error
    pending = one_row(ctx, iid, "approval_request_to_customer")
    assert pending.status == OutboxStatus.PENDING and pending.attempts == 1
    assert "451" in pending.last_error
    assert pending.next_attempt_at > clock.now
    assert pending.next_attempt_at == clock.now + timedelta(seconds=BACKOFF_BASE_SECONDS)
    assert smtp.messages == [] and smtp.handler.refused == 1

    clock.advance(seconds=BACKOFF_BASE_SECONDS - 1)
    assert deliver_due_messages(ctx, smtp.transport()) == []
    assert smtp.messages == []

    clock.advance(seconds=2)
    assert [r.status for r in deliver_due_messages(ctx, smtp.transport())] == ["sent"]
    assert deliver_due_messages(ctx, smtp.transport()) == []
    assert len(smtp.handler.with_id(row.message_id)) == 1 and len(smtp.messages) == 1
    sent = one_row(ctx, iid, "approval_request_to_customer")
    assert sent.status == OutboxStatus.SENT and sent.attempts == 2 and sent.last_error is None


def test_a_server_that_is_down_leaves_the_row_pending_until_one_is_up(ctx, job, smtp, clock):
    iid = job()
    row = one_row(ctx, iid, "approval_request_to_customer")
    down = SmtpTransport(f"smtp://127.0.0.1:{free_port()}", timeout=5)  # nothing listens there
    [result] = deliver_due_messages(ctx, down)
    assert result.status == OutboxStatus.PENDING
    pending = one_row(ctx, iid, "approval_request_to_customer")
    assert pending.status == OutboxStatus.PENDING and pending.attempts == 1
    assert "refused" in pending.last_error.lower() or "connect" in pending.last_error.lower()
    assert pending.next_attempt_at > clock.now

    clock.advance(seconds=BACKOFF_BASE_SECONDS + 1)
    assert [r.status for r in deliver_due_messages(ctx, smtp.transport())] == ["sent"]
    assert deliver_due_messages(ctx, smtp.transport()) == []
    assert len(smtp.handler.with_id(row.message_id)) == 1
    assert one_row(ctx, iid, "approval_request_to_customer").status == OutboxStatus.SENT


def test_a_row_without_recipient_fails_and_sends_nothing(ctx, job, smtp):
    iid = job(customer_email=None)
    row = one_row(ctx, iid, "approval_request_to_customer")
    assert row.recipient is None
    [result] = deliver_due_messages(ctx, smtp.transport())
    assert result.status == OutboxStatus.FAILED
    failed = one_row(ctx, iid, "approval_request_to_customer")
    assert failed.status == OutboxStatus.FAILED and failed.sent_at is None
    assert "customer_email" in failed.last_error and "no e-mail address" in failed.last_error
    assert smtp.messages == []
    assert deliver_due_messages(ctx, smtp.transport()) == []  # a failed row is not retried


def test_the_manager_is_told_of_the_approval_with_the_comment_escaped_in_html(ctx, job, smtp):
    iid = job()
    comment = "Fine by us. <script>alert(1)</script> & thanks"
    complete_task(ctx, only_open_task(ctx, iid, "review_job").id, {"decision": "approve", "comment": comment})
    row = one_row(ctx, iid, "approved_to_manager")
    assert {r.status for r in deliver_due_messages(ctx, smtp.transport())} == {"sent"}
    [message] = smtp.handler.with_id(row.message_id)
    assert message["To"] == MANAGER and TITLE in message["Subject"]
    text, html = bodies(message)
    assert comment in text
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; thanks" in html
    assert TITLE in text and TITLE in html


EDITED = """{% extends "base.j2" %}
{% block subject %}Edited request: {{ title }}{% endblock %}
{% block text %}Custom text about {{ title }}.{% endblock %}
{% block html %}<p>Custom html about {{ title }}.</p>{% endblock %}
"""


def test_an_edited_template_is_used_for_the_next_delivery(ctx, job, smtp):
    shipped, edited = get_template_source(ctx, "approval_request_to_customer")
    assert not edited and "Please approve" in shipped
    save_template(ctx, "approval_request_to_customer", EDITED, "admin@brightwater.example")
    assert get_template_source(ctx, "approval_request_to_customer") == (EDITED, True)
    job()
    deliver_due_messages(ctx, smtp.transport())
    [message] = smtp.messages
    assert message["Subject"] == f"Edited request: {TITLE}"
    text, html = bodies(message)
    assert f"Custom text about {TITLE}." in text and f"<p>Custom html about {TITLE}.</p>" in html

    reset_template(ctx, "approval_request_to_customer")
    assert get_template_source(ctx, "approval_request_to_customer") == (shipped, False)
    job()
    deliver_due_messages(ctx, smtp.transport())
    assert smtp.messages[-1]["Subject"] == f"Please approve: {TITLE}"


def test_a_broken_edit_is_refused_with_its_line_and_changes_nothing(ctx, job, smtp):
    save_template(ctx, "approval_request_to_customer", EDITED, "admin")
    broken = '{% extends "base.j2" %}\n\n{% block subject %}{{ title }\n'
    with pytest.raises(InvalidInput, match="approval_request_to_customer, line 3: syntax error"):
        save_template(ctx, "approval_request_to_customer", broken, "admin")
    assert get_template_source(ctx, "approval_request_to_customer") == (EDITED, True)
    job()
    deliver_due_messages(ctx, smtp.transport())
    assert smtp.messages[-1]["Subject"] == f"Edited request: {TITLE}"


def test_an_unsafe_edit_is_refused(ctx):
    unsafe = EDITED.replace("Custom text about {{ title }}.", "{{ ''.__class__.__mro__ }}")
    with pytest.raises(InvalidInput, match=r"approval_request_to_customer, line 3: not allowed: .*__class__"):
        save_template(ctx, "approval_request_to_customer", unsafe, "admin")
    assert get_template_source(ctx, "approval_request_to_customer")[1] is False


def test_an_unknown_template_name_is_refused_naming_the_known_ones(ctx):
    with pytest.raises(InvalidInput, match="approved_to_manager"):
        save_template(ctx, "no_such_mail", EDITED, "admin")
    with pytest.raises(InvalidInput):
        reset_template(ctx, "no_such_mail")
