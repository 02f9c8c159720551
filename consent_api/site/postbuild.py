"""After the build, whatever built it: minify the project's own scripts and styles, and compute
the Content-Security-Policy from the inline scripts of the finished pages.

Every inline script the theme still emits is hashed; the policy allows exactly those and the
site's own files. Each HTML file gets a ``<meta http-equiv>`` copy, and the policy is written for
servers that send it as a header: ``csp.txt`` (read by the embedded server), ``_headers``
(static hosts that read that format) and ``nginx-csp.conf`` (included by ``deploy/nginx``).
The step reads every page on every run, so a partial rebuild (``mkdocs serve --dirty``) still
gets the whole site's policy, and running it twice changes nothing.

Run it as ``python -m consent_api.site.postbuild SITE_DIR`` (``make build`` does).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import re
from pathlib import Path
from urllib.parse import urlsplit

from rcssmin import cssmin
from rjsmin import jsmin

from consent_api.site import registry

MINIFIERS = {".js": jsmin, ".css": cssmin}
# An executable inline script: no src, and no non-JavaScript type such as application/json or
# text/plain (the gated, inert scripts of optional cookie categories).
_INLINE_SCRIPT = re.compile(r"<script(?P<attrs>(?![^>]*\bsrc=)[^>]*)>(?P<body>.*?)</script>", re.S)
_INERT_TYPE = re.compile(r"""\btype=["']?(?!text/javascript|module)[^"'\s>]+""")
_META = re.compile(r'\n\s*<meta http-equiv="Content-Security-Policy" content="[^"]*">')


def minify(theme_dir: Path, site_dir: Path) -> None:
    """Replace the built copies of ``theme_dir/assets``' scripts and styles with minified ones."""
    for source in sorted((theme_dir / "assets").rglob("*")):
        minifier = MINIFIERS.get(source.suffix)
        built = site_dir / source.relative_to(theme_dir)
        if minifier is None or not built.is_file():
            continue
        built.write_text(minifier(built.read_text(encoding="utf-8")), encoding="utf-8")


def script_hashes(html: str) -> set[str]:
    """The CSP source of every executable inline script in ``html``."""
    found = set()
    for match in _INLINE_SCRIPT.finditer(html):
        if _INERT_TYPE.search(match.group("attrs")) or not match.group("body").strip():
            continue
        digest = hashlib.sha256(match.group("body").encode("utf-8")).digest()
        found.add(f"'sha256-{base64.b64encode(digest).decode()}'")
    return found


def _api_origin(api_base: str) -> str:
    parts = urlsplit(api_base)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


def policy(api_base: str, hashes: set[str], *, for_meta: bool = False) -> str:
    """The policy: the site's own files, the given script hashes, and the API's origin."""
    api = _api_origin(api_base)
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


def with_policy(html: str, api_base: str) -> tuple[str, set[str]]:
    """The page with its own policy as a ``<meta>`` (replacing an earlier one), and its hashes."""
    html = _META.sub("", html, count=1)
    hashes = script_hashes(html)
    meta = (
        '<meta http-equiv="Content-Security-Policy" '
        f'content="{policy(api_base, hashes, for_meta=True)}">'
    )
    # Right after the charset declaration, before anything the policy governs.
    anchor = '<meta charset="utf-8">' if '<meta charset="utf-8">' in html else "<head>"
    return html.replace(anchor, f"{anchor}\n    {meta}", 1), hashes


def secure(site_dir: Path, api_base: str) -> str:
    """Give every page its policy and write the site-wide one; returns the header's value."""
    hashes: set[str] = set()
    for page in sorted(site_dir.rglob("*.html")):
        html, found = with_policy(page.read_text(encoding="utf-8"), api_base)
        page.write_text(html, encoding="utf-8")
        hashes |= found
    header = policy(api_base, hashes)
    (site_dir / "csp.txt").write_text(header + "\n", encoding="utf-8")
    (site_dir / "_headers").write_text(f"/*\n  Content-Security-Policy: {header}\n", encoding="utf-8")
    (site_dir / "nginx-csp.conf").write_text(
        f'add_header Content-Security-Policy "{header}" always;\n', encoding="utf-8"
    )
    return header


def run(site_dir: Path, theme_dir: Path, api_base: str) -> None:
    """The whole post-build step over ``site_dir``."""
    minify(theme_dir, site_dir)
    secure(site_dir, api_base)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site_dir", type=Path, nargs="?", default=Path("site"))
    parser.add_argument("--config", type=Path, default=Path("mkdocs.yml"))
    parser.add_argument("--theme-dir", type=Path, default=Path("overrides"))
    args = parser.parse_args(argv)
    run(args.site_dir, args.theme_dir, registry.load(args.config).api_base)


if __name__ == "__main__":
    main()
