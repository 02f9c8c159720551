"""nginx's security headers for the static site, written from the table the service sends.

nginx serves ``site/`` without the service, so it needs the headers of ``security.HEADERS``
itself: ``consent-api deploy-headers`` prints them as the snippet committed at
``deploy/nginx/carecaller-headers.conf``, and a test keeps the two equal.
"""

from __future__ import annotations

from pathlib import Path

import click

from consent_api.web import security

#: Where the generated snippet is committed, from the repository's root.
SNIPPET = Path("deploy") / "nginx" / "carecaller-headers.conf"
#: The max-age the snippet suggests for HSTS, which only a site on HTTPS may send.
HSTS_SECONDS = 31_536_000


def directive(name: str, value: str) -> str:
    """One ``add_header`` line; ``always`` puts it on error pages too, as the service does."""
    if '"' in value or "\\" in value:
        raise ValueError(f"{name}: a header value for nginx may hold no quote or backslash")
    return f'add_header {name} "{value}" always;'


def nginx_snippet() -> str:
    """The text of ``deploy/nginx/carecaller-headers.conf``."""
    lines = [
        "# Security headers for the static site (the service sets its own on /api/).",
        "# Generated from consent_api/web/security.py by `consent-api deploy-headers`: edit",
        "# the table there and regenerate, never this file.",
        "# Install as /etc/nginx/snippets/carecaller-headers.conf.",
        *(directive(name, value) for name, value in security.HEADERS.items()),
        "# Uncomment once the site is served over HTTPS:",
        "# " + directive(security.HSTS, security.hsts_value(HSTS_SECONDS)),
    ]
    return "\n".join(lines) + "\n"


@click.command("deploy-headers")
def cli() -> None:
    """Print nginx's security-headers snippet (deploy/nginx/carecaller-headers.conf)."""
    click.echo(nginx_snippet(), nl=False)
