"""A real browser loads the home page and never talks to another host."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from conftest import LiveServer


def test_home_page_loads_with_title_and_only_local_requests(
    site_server: LiveServer, page: Any
) -> None:
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.goto(site_server.url + "/", wait_until="networkidle")
    assert "CareCaller" in page.title()
    assert page.locator("h1").first.inner_text().startswith("Communications infrastructure")
    assert hosts == {f"127.0.0.1:{site_server.port}"}
