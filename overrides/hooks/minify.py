"""Ships the project's own scripts and styles minified, under their own names.

They are written readable in ``overrides/assets/``; every page must stay within 5 KB gzipped of
them (tests/test_banner_build.py checks that budget on the built site).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from rcssmin import cssmin
from rjsmin import jsmin

MINIFIERS = {".js": jsmin, ".css": cssmin}


def on_post_build(config: MkDocsConfig, **_: Any) -> None:
    theme_dir = Path(str(config.theme.custom_dir))
    site_dir = Path(config.site_dir)
    for source in sorted((theme_dir / "assets").rglob("*")):
        minify = MINIFIERS.get(source.suffix)
        built = site_dir / source.relative_to(theme_dir)
        if minify is None or not built.is_file():
            continue
        built.write_text(minify(built.read_text(encoding="utf-8")), encoding="utf-8")
