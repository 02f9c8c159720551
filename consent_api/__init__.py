"""CareCaller's consent and inquiry records service, and what its site build shares with it.

The packages, each named for what it holds (each ``__init__`` says what it may import):

- ``site``: Flask-free; the registry read from ``mkdocs.yml``, policy versions, form
  declarations and their markup. The site build imports only this package (and ``exc``).
- ``records``: signed records; their schema, signing, IDs and clock, durable storage.
- ``web``: HTTP; errors, security headers, CORS, the static site, OpenAPI, health.
- ``outbox``: delivery that loses nothing; the queue, its email and webhook channels, its CLI.
- ``inquiries``: the contact and demo forms; views, models, pages, tokens, rate limit, what the
  outbox says about them, export.
- ``retention``: the purge, holds and the rights commands (access and erasure).

At the top: ``app`` (``create_app``), ``config``, ``exc``, ``consent``, ``cli``, ``serve`` and
``background``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from consent_api.app import create_app as create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # ``create_app`` is loaded on first use so that the site build, which imports
    # ``consent_api.site``, never loads Flask and the service through this package.
    if name == "create_app":
        from consent_api.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
