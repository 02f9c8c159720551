"""Content-Security-Policy for the static site, computed at build time.

Every inline script mkdocs-material still emits is hashed; the policy allows exactly those and
the site's own files. Each page gets a ``<meta http-equiv>`` copy, and the build writes the
policy for servers that send it as a header: ``csp.txt`` (read by the embedded server),
``_headers`` (static hosts that read that format) and ``nginx-csp.conf`` (included by
``deploy/nginx``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.pages import Page

# An executable inline script: no src, and no non-JavaScript type such as application/json or
# text/plain (the gated, inert scripts of optional cookie categories).
_INLINE_SCRIPT = re.compile(r"<script(?P<attrs>(?![^>]*\bsrc=)[^>]*)>(?P<body>.*?)</script>", re.S)
_INERT_TYPE = re.compile(r"""\btype=["']?(?!text/javascript|module)[^"'\s>]+""")

_hashes: set[str] = set()


def _script_hashes(html: str) -> set[str]:
    found = set()
    for match in _INLINE_SCRIPT.finditer(html):
        if _INERT_TYPE.search(match.group("attrs")) or not match.group("body").strip():
            continue
        digest = hashlib.sha256(match.group("body").encode("utf-8")).digest()
        found.add(f"'sha256-{base64.b64encode(digest).decode()}'")
    return found


def _api_origin(config: MkDocsConfig) -> str:
    parts = urlsplit(str(config.extra.get("api_base", "/api")))
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


def policy(config: MkDocsConfig, hashes: set[str], *, for_meta: bool = False) -> str:
    """The policy: the site's own files, the given script hashes, and the API's origin."""
    api = _api_origin(config)
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(["'self'", *sorted(hashes)]),
        "style-src": "'self'",
        "img-src": "'self' data:",
        "connect-src": f"'self' {api}".strip(),
        "form-action": f"'self' {api}".strip(),
        "object-src": "'none'",
        "base-uri": "'self'",
        "frame-ancestors": "'none'",
    }
    if for_meta:
        # Browsers ignore frame-ancestors in a <meta> policy and warn about it.
        del directives["frame-ancestors"]
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def on_pre_build(config: MkDocsConfig) -> None:
    _hashes.clear()


def _with_policy(output: str, config: MkDocsConfig) -> str:
    hashes = _script_hashes(output)
    _hashes.update(hashes)
    meta = (
        '<meta http-equiv="Content-Security-Policy" '
        f'content="{policy(config, hashes, for_meta=True)}">'
    )
    # Right after the charset declaration, before anything the policy governs.
    anchor = '<meta charset="utf-8">' if '<meta charset="utf-8">' in output else "<head>"
    return output.replace(anchor, f"{anchor}\n    {meta}", 1)


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    return _with_policy(output, config)


def on_post_template(output_content: str, template_name: str, config: MkDocsConfig) -> str:
    # Static templates (the 404 page) are not pages but load the same scripts.
    if template_name.endswith(".html"):
        return _with_policy(output_content, config)
    return output_content


def on_post_build(config: MkDocsConfig, **_: Any) -> None:
    site = Path(config.site_dir)
    header = policy(config, _hashes)
    (site / "csp.txt").write_text(header + "\n", encoding="utf-8")
    (site / "_headers").write_text(f"/*\n  Content-Security-Policy: {header}\n", encoding="utf-8")
    (site / "nginx-csp.conf").write_text(
        f'add_header Content-Security-Policy "{header}" always;\n', encoding="utf-8"
    )
