"""Reading built HTML as a reader's browser would: loaded resources, links and visible text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

#: ``<link rel=...>`` values that make the browser fetch the target.
LOADED_RELS = {"stylesheet", "icon", "preload", "modulepreload", "manifest", "apple-touch-icon"}
LOADING_TAGS = {"script", "img", "iframe", "source", "audio", "video", "embed"}
BLOCKS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "dt", "dd", "td", "th", "br"}
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)")


@dataclass
class Page(HTMLParser):
    """The parts of one HTML page the tests look at."""

    loaded: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    _text: list[str] = field(default_factory=list)
    _skip: int = 0
    _in_article: int = 0

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        rels = set(attr.get("rel", "").split())
        if tag in LOADING_TAGS and "src" in attr:
            self.loaded.append(attr["src"])
        if tag == "link" and rels & LOADED_RELS:
            self.loaded.append(attr.get("href", ""))
        if tag == "a" and "href" in attr:
            self.links.append(attr["href"])
        if tag == "a" and "headerlink" in attr.get("class", ""):
            self._skip += 1
        if tag == "article":
            self._in_article += 1
        if tag in BLOCKS:
            self._text.append("\n")
        if tag == "li":
            self._text.append("- ")  # a bullet, as the reader sees it

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._skip:
            self._skip -= 1
        if tag == "article":
            self._in_article -= 1
        if tag in BLOCKS:
            self._text.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_article and not self._skip:
            self._text.append(data)

    def article_lines(self) -> list[str]:
        """The article's visible text, one line per block, whitespace folded; list items
        start with ``- ``."""
        lines = (" ".join(line.split()) for line in "".join(self._text).split("\n"))
        return [line for line in lines if line]


def parse(path: Path) -> Page:
    return parse_fragment(path.read_text(encoding="utf-8"))


def parse_fragment(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def html_pages(site_dir: Path) -> Iterator[Path]:
    yield from sorted(site_dir.rglob("*.html"))


def css_urls(path: Path) -> list[str]:
    return CSS_URL.findall(path.read_text(encoding="utf-8"))


def is_external(url: str) -> bool:
    """True for any URL that would make the browser contact another host."""
    parts = urlsplit(url.strip())
    return bool(parts.netloc) or parts.scheme not in {"", "data"}
