"""The service's exception tree: every error a client can see is an ``ApiError``."""

from __future__ import annotations

import traceback
from collections.abc import Mapping


class ConsentApiError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(ConsentApiError):
    """The service cannot start with the configuration it was given."""


class ApiError(ConsentApiError):
    """An error answered to an API client as JSON with a stable code."""

    status: int = 400
    code: str = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        fields: Mapping[str, str] | None = None,
        code: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides its JSON body."""
        return {}


class ValidationFailed(ApiError):
    """The request's content does not match the endpoint's schema."""

    code = "invalid"


class FormTokenRejected(ApiError):
    """An inquiry came without a valid form token: missing, forged, sent too soon after the
    form was shown, too late, or already used. ``reason`` says which; the visitor is only told
    to send the form again, so that a bot learns nothing."""

    code = "form_token"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class RateLimited(ApiError):
    """Too many inquiries from one client; nothing was stored. ``retry_after``: the seconds
    until the window that refused it resets (sent as ``Retry-After``)."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class NotFound(ApiError):
    status = 404
    code = "not_found"


class StorageUnavailable(ApiError):
    """The database cannot be reached or cannot write; nothing was stored."""

    status = 503
    code = "storage_unavailable"


class BadReceipt(ApiError):
    """A receipt was not issued by this service, or has been damaged."""

    code = "bad_receipt"


class RecordTampered(ApiError):
    """A stored record no longer matches its signature: it was changed outside the service."""

    status = 409
    code = "record_tampered"


def described(error: BaseException) -> str:
    """``error`` for a log line: the classes of it and of its causes, with the database's own
    error code (PostgreSQL's SQLSTATE, SQLite's error name), and never an exception's text. A
    database's message can quote the failing row ("Failing row contains …") or the statement's
    parameters: a visitor's name, email and message."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        part = type(current).__name__
        # SQLAlchemy keeps the driver's exception on ``orig``; the driver carries the code.
        for source in (current, getattr(current, "orig", None)):
            sqlstate = getattr(source, "sqlstate", None)
            name = getattr(source, "sqlite_errorname", None)
            if isinstance(sqlstate, str) and sqlstate:
                part += f" (SQLSTATE {sqlstate})"
                break
            if isinstance(name, str) and name:
                part += f" ({name})"
                break
        parts.append(part)
        current = current.__cause__ or current.__context__
    return " <- ".join(parts)


def traced(error: BaseException) -> str:
    """``described`` followed by where it was raised: the stack's files, lines and source, which
    hold code and no data, without the exceptions' texts."""
    return described(error) + "\n" + "".join(traceback.format_tb(error.__traceback__)).rstrip()
