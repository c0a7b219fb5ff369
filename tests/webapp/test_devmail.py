"""The dev mailbox page: only when the app is built with DEV_MAILBOX, no login, mail HTML never injected raw."""

import pytest

from engine.models import OutboxMessage
from webapp import create_app

EVIL_HTML = '<p>Your code is <b>123456</b></p><script>alert("pwned")</script>'


@pytest.fixture
def mail_id(ctx, clock) -> int:
    with ctx.uow() as uow:
        row = OutboxMessage(template="portal_code_to_customer", audience="customer", recipient="hanna@dental.example",
                            context={}, created_at=clock(), status="sent", sent_at=clock(), attempts=1,
                            subject="Your login code <123456>", text_body="Your code is 123456.", html_body=EVIL_HTML)
        uow.session.add(row)
        uow.commit()
        return row.id


def _client(ctx, enabled: bool):
    return create_app(ctx=ctx, config={"TESTING": True, "DEV_MAILBOX": enabled}).test_client()


def test_the_mailbox_does_not_exist_unless_switched_on(ctx, mail_id):
    client = _client(ctx, enabled=False)
    assert client.get("/dev/mailbox").status_code == 404
    assert client.get(f"/dev/mailbox/{mail_id}").status_code == 404
    assert "/dev/mailbox" not in client.get("/portal/login").get_data(as_text=True)
    assert "/dev/mailbox" in _client(ctx, enabled=True).get("/portal/login").get_data(as_text=True)


def test_the_list_shows_every_mail_without_a_login(ctx, mail_id):
    page = _client(ctx, enabled=True).get("/dev/mailbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Development mailbox: every e-mail Signoff would send appears here. Only in make demo." in html
    assert "hanna@dental.example" in html and "Your login code &lt;123456&gt;" in html and "sent" in html
    assert f'href="/dev/mailbox/{mail_id}"' in html


def test_one_mail_shows_its_text_and_its_html_only_inside_a_sandboxed_frame(ctx, mail_id):
    client = _client(ctx, enabled=True)
    page = client.get(f"/dev/mailbox/{mail_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Your code is 123456." in html
    assert "<script>" not in html and "<b>123456</b>" not in html  # never injected raw
    assert 'sandbox=""' in html and "srcdoc=\"&lt;p&gt;Your code is &lt;b&gt;123456&lt;/b&gt;" in html
    assert client.get(f"/dev/mailbox/{mail_id + 1000}").status_code == 404
