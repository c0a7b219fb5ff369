"""Where rendered e-mail goes: an SMTP server, or the dev mailbox (stored only, read with `signoff mail`)."""

import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit


class Transport(Protocol):
    name: str

    def send(self, message: EmailMessage) -> None: ...


class DevMailbox:
    """Keeps mail in the database only (the outbox row holds the rendered message)."""

    name = "dev"

    def send(self, message: EmailMessage) -> None:
        return None


class SmtpTransport:
    """`smtp://user:pass@host:587?starttls=1` or `smtps://host:465`; one connection per message."""

    name = "smtp"

    def __init__(self, url: str, timeout: float = 30.0):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"SIGNOFF_SMTP_URL must look like smtp://user:pass@host:587?starttls=1, got {url!r}")
        self.use_ssl = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.use_ssl else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.starttls = parse_qs(parts.query).get("starttls", ["0"])[0] in ("1", "true", "yes")
        self.timeout = timeout

    def send(self, message: EmailMessage) -> None:
        if self.use_ssl:
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.starttls:
                client.starttls(context=ssl.create_default_context())
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(message)


def make_transport(smtp_url: str | None) -> Transport:
    return SmtpTransport(smtp_url) if smtp_url else DevMailbox()
