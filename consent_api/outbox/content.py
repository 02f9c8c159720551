"""What each delivery says: builders registered by the modules that queue deliveries.

A builder turns the stored record into the message when it is sent, so that the queue never
holds a copy of what the person wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from flask import Flask, current_app

from consent_api.records import store as records

EXTENSION = "consent_api.outbox.content"

#: An email, its recipient set (``To``), or a webhook event (a JSON object).
Message = EmailMessage | dict[str, Any]
Builder = Callable[[records.Record], Message]


def register(app: Flask, channel: str, purpose: str, build: Builder) -> None:
    """Have ``build`` write the ``purpose`` messages that ``channel`` delivers."""
    app.extensions.setdefault(EXTENSION, {})[(channel, purpose)] = build


def build(channel: str, purpose: str, record: records.Record) -> Message:
    """The message for one delivery; ``LookupError`` if nothing registered one."""
    builders: dict[tuple[str, str], Builder] = current_app.extensions.get(EXTENSION, {})
    try:
        builder = builders[(channel, purpose)]
    except KeyError as error:
        raise LookupError(f"no {channel} message is registered for {purpose!r}") from error
    return builder(record)
