"""A visitor's browser on the real site: the banner, the stored choice and the records it sent."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from consent_api.site import registry
from consent_api.site.registry import Registry

#: Where the banner keeps the choice and the records not yet accepted by the service.
CHOICE = registry.STORAGE_KEY
PENDING = f"{CHOICE}.pending"
#: What the site may store before and without any consent: the choice itself, nothing else.
NECESSARY_KEYS = {CHOICE, PENDING}


def get_record(base_url: str, receipt: str) -> tuple[int, dict[str, Any]]:
    """``GET /api/consent/<receipt>`` from outside the browser: the service's own word."""
    url = f"{base_url}/api/consent/{quote(receipt, safe='')}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@dataclass
class Visitor:
    """One browser context on the site, watching what it requests and records."""

    page: Any
    base_url: str
    requested: list[str] = field(default_factory=list)
    #: (method, URL, status) of every response: bodies vanish once the page navigates away.
    answers: list[tuple[str, str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("request", lambda request: self.requested.append(request.url))
        self.page.on("response", self._answered)

    def _answered(self, response: Any) -> None:
        self.answers.append((response.request.method, response.url, response.status))

    def open(self, path: str = "/") -> None:
        self.page.goto(self.base_url + path)

    @property
    def banner(self) -> Any:
        return self.page.locator("#__consent .md-consent__inner")

    def button(self, name: str) -> Any:
        return self.page.get_by_role("button", name=name, exact=True)

    def click(self, name: str) -> None:
        self.button(name).click()

    def choice(self) -> dict[str, Any] | None:
        """The stored choice, as the banner keeps it in this browser."""
        stored: dict[str, Any] | None = self.page.evaluate(
            f"JSON.parse(localStorage.getItem('{CHOICE}'))"
        )
        return stored

    def pending(self) -> list[dict[str, Any]]:
        queued: list[dict[str, Any]] = self.page.evaluate(
            f"JSON.parse(localStorage.getItem('{PENDING}') || '[]')"
        )
        return queued

    def wait_recorded(self) -> dict[str, Any]:
        """Wait until the service has accepted every choice; the stored choice then."""
        self.page.wait_for_function(
            f"""() => !JSON.parse(localStorage.getItem('{PENDING}') || '[]').length
                && JSON.parse(localStorage.getItem('{CHOICE}'))?.receipt"""
        )
        choice = self.choice()
        assert choice is not None
        return choice

    # Arrow functions, not expressions: Playwright evaluates a polled expression with eval(),
    # which the site's Content-Security-Policy rightly refuses.
    def wait_analytics(self) -> None:
        """Wait until the gated analytics script has run."""
        self.page.wait_for_function("() => document.documentElement.dataset.analytics === 'on'")

    def wait_verified(self) -> None:
        """Wait until the cookie notice has checked the receipt with the service."""
        self.page.wait_for_function(
            "() => document.querySelector('[data-cc-verified]').dataset.result !== undefined"
        )

    def recorded_count(self) -> int:
        """How many of this browser's posts the service stored (answered 201)."""
        return sum(
            1
            for method, url, status in self.answers
            if method == "POST" and url.endswith("/api/consent") and status == 201
        )

    def record(self, receipt: str) -> dict[str, Any]:
        status, body = get_record(self.base_url, receipt)
        assert status == 200, body
        return body

    def analytics_ran(self) -> bool:
        return bool(self.page.evaluate("document.documentElement.dataset.analytics === 'on'"))

    def cookie_names(self) -> set[str]:
        return {cookie["name"] for cookie in self.page.context.cookies()}

    def storage_keys(self) -> set[str]:
        keys: list[str] = self.page.evaluate(
            "[...Object.keys(localStorage), ...Object.keys(sessionStorage)]"
        )
        return set(keys)

    def edit_choice(self, **changes: Any) -> None:
        """Change the stored choice as time or a new build would, then reload the page."""
        self.page.evaluate(
            """([key, changes]) => localStorage.setItem(key,
                JSON.stringify({...JSON.parse(localStorage.getItem(key)), ...changes}))""",
            [CHOICE, changes],
        )
        self.page.reload()


def consent_body(reg: Registry, *, accept: bool = False) -> dict[str, Any]:
    """A valid ``POST /api/consent`` body for the site ``reg`` describes: every optional
    category refused (or, with ``accept``, granted), under the newest policy version."""
    return {
        "consent_id": None,
        "choices": {"necessary": True, **{name: accept for name in reg.categories}},
        "action": "accept_all" if accept else "reject_all",
        "policy_version": reg.version_ids[-1],
        "banner_fingerprint": reg.banner_fingerprint,
        "gpc": False,
        "page": "/",
    }
