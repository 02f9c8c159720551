"""The service's exception tree: every error a client can see is an ``ApiError``."""

from __future__ import annotations

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
