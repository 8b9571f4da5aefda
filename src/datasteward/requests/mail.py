"""Sending e-mail through SMTP: ``[web] smtp_url`` names the server, the environment holds
the credentials (``DATASTEWARD_SMTP_USER``, ``DATASTEWARD_SMTP_PASSWORD``), never the project.

``smtp://host:port`` (upgraded with STARTTLS when the server offers it; add
``?starttls=required`` to refuse one that does not), ``smtps://host:port`` (TLS throughout).
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

from datasteward.errors import TakedownRequestError

log = logging.getLogger(__name__)
SMTP_USER_ENV = "DATASTEWARD_SMTP_USER"
SMTP_PASSWORD_ENV = "DATASTEWARD_SMTP_PASSWORD"
DEFAULT_SENDER = "datasteward@localhost"


@dataclass(frozen=True)
class MailOptions:
    """Where and how e-mail is sent."""

    #: ``smtp://host:port`` or ``smtps://host:port``; ``?starttls=required`` refuses a
    #: server that cannot encrypt.
    smtp_url: str
    #: The From address.
    sender: str = DEFAULT_SENDER
    #: Seconds to wait for the server.
    timeout: float = 10.0


class Mailer:
    """Sends one message per call (a connection each: mail is rare here)."""

    def __init__(self, options: MailOptions) -> None:
        parts = urlsplit(options.smtp_url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise TakedownRequestError(
                f"[web] smtp_url {options.smtp_url!r} is not an SMTP URL",
                hint="e.g. smtp://127.0.0.1:25 or smtps://mail.example.org:465",
            )
        if parts.username or parts.password:
            raise TakedownRequestError(
                "[web] smtp_url holds credentials; they do not belong in the project",
                hint=f"set {SMTP_USER_ENV} and {SMTP_PASSWORD_ENV} in the environment instead",
            )
        self.options = options
        self.host = parts.hostname
        self.tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.tls else 25)
        self.starttls_required = parse_qs(parts.query).get("starttls") == ["required"]

    def send(self, to: str, subject: str, body: str) -> None:
        """Send a plain-text message; ``TakedownRequestError`` naming the server on failure."""
        msg = EmailMessage()
        msg["From"] = self.options.sender
        msg["To"] = to
        msg["Subject"] = " ".join(subject.split())  # no header injection through newlines
        msg.set_content(body)
        try:
            if self.tls:
                ctx = ssl.create_default_context()
                with smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.options.timeout, context=ctx
                ) as smtp:
                    self._login_and_send(smtp, msg)
            else:
                with smtplib.SMTP(self.host, self.port, timeout=self.options.timeout) as smtp:
                    smtp.ehlo()
                    if smtp.has_extn("starttls"):
                        smtp.starttls(context=ssl.create_default_context())
                        smtp.ehlo()
                    elif self.starttls_required:
                        raise TakedownRequestError(
                            f"the SMTP server {self.host}:{self.port} does not offer STARTTLS",
                            hint="use smtps:// or drop ?starttls=required",
                        )
                    self._login_and_send(smtp, msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise TakedownRequestError(
                f"cannot send e-mail through {self.host}:{self.port}: {exc}",
                hint="check [web] smtp_url and that the server is reachable",
            ) from None

    def _login_and_send(self, smtp: smtplib.SMTP, msg: EmailMessage) -> None:
        user = os.environ.get(SMTP_USER_ENV)
        if user:
            smtp.login(user, os.environ.get(SMTP_PASSWORD_ENV, ""))
        smtp.send_message(msg)
        log.info("sent %r to %s", msg["Subject"], msg["To"])
