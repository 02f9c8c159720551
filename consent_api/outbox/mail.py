"""The email channel: one SMTP conversation per batch, with STARTTLS and a login as configured.

Errors are kept by kind and code only: an SMTP server's text often quotes the recipient's
address, which must not reach the outbox table or a log.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from flask import current_app

from consent_api.outbox.queue import SENT_OK, Outcome


def enabled() -> bool:
    """Whether email is configured (``SMTP_HOST``); without, no email is queued."""
    return bool(current_app.config["SMTP_HOST"])


def _reason(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
        return f"SMTPRecipientsRefused: {', '.join(map(str, codes))}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{type(error).__name__}: {error.smtp_code}"
    return f"{type(error).__name__}: {error}"


def _permanent(error: BaseException) -> bool:
    """A 5xx refusal of every recipient will not change by retrying (a bad address)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in error.recipients.values())
    return False


class Sender:
    """Sends messages over one SMTP connection, opened on first use, reopened once broken."""

    def __init__(self) -> None:
        self.smtp: smtplib.SMTP | None = None
        #: Why the server cannot be reached: the batch's other messages wait for the next run.
        self.unavailable = ""

    def _connect(self) -> smtplib.SMTP:
        config = current_app.config
        smtp = smtplib.SMTP(
            config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=config["SMTP_TIMEOUT"]
        )
        try:
            if config["SMTP_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["SMTP_USER"]:
                smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> Outcome:
        """Hand ``message`` to the SMTP server."""
        try:
            self.smtp = self.smtp or self._connect()
        except (OSError, smtplib.SMTPException) as error:
            self.unavailable = _reason(error)
            return Outcome(False, self.unavailable)
        try:
            self.smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            if not isinstance(error, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused):
                self.smtp = None  # the connection broke: reconnect for the next one
            return Outcome(False, _reason(error), permanent=_permanent(error))
        return SENT_OK

    def close(self) -> None:
        """End the conversation politely if it is still open."""
        if self.smtp is None:
            return
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            self.smtp.close()
        self.smtp = None
