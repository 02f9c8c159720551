"""Which paths an event may name: the pages of the built site, read from its directory.

The built site (``SITE_DIR``) is the one source: a page exists exactly when the build wrote its
``index.html``, so a renamed or new page needs no list kept by hand.
"""

from __future__ import annotations

from pathlib import Path

from consent_api.site.forms import FORMS


def site_paths(site_dir: str | Path) -> frozenset[str]:
    """The URL path of every page of the built site in ``site_dir`` (``/``, ``/demo/``, ...);
    empty when there is no built site."""
    root = Path(site_dir) if site_dir else None
    if root is None or not root.is_dir():
        return frozenset()
    return frozenset(
        "/" if page.parent == root else f"/{page.parent.relative_to(root).as_posix()}/"
        for page in root.rglob("index.html")
    )


def form_pages() -> dict[str, str]:
    """The page of each inquiry form and the form's kind: ``{"/demo/": "demo", ...}``."""
    return {f"/{form.page}": form.kind for form in FORMS.values()}


def normalise(path: str) -> str:
    """A page's path as the site links it: ``/demo/index.html`` is ``/demo/``."""
    return path.removesuffix("index.html") if path.endswith("/index.html") else path
