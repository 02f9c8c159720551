"""Every page runs under a strict Content-Security-Policy without a single violation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import LiveServer
from flask.testing import FlaskClient
from sitecheck import html_pages


def test_policy_forbids_inline_scripts_and_framing(built_site: Path) -> None:
    policy = (built_site / "csp.txt").read_text(encoding="utf-8")
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'self'"
    assert directives["form-action"].startswith("'self'")


def test_every_page_carries_the_policy_in_a_meta_tag(built_site: Path) -> None:
    for page in html_pages(built_site):
        head = page.read_text(encoding="utf-8").split("</head>", 1)[0]
        assert 'http-equiv="Content-Security-Policy"' in head, page


def test_static_hosts_get_the_policy_as_a_header_file(built_site: Path) -> None:
    policy = (built_site / "csp.txt").read_text(encoding="utf-8").strip()
    assert f"Content-Security-Policy: {policy}" in (built_site / "_headers").read_text()
    assert policy in (built_site / "nginx-csp.conf").read_text()


def test_embedded_server_sends_the_policy_header_on_pages(
    client: FlaskClient, built_site: Path
) -> None:
    policy = (built_site / "csp.txt").read_text(encoding="utf-8").strip()
    assert client.get("/").headers["Content-Security-Policy"] == policy
    assert client.get("/platform/").headers["Content-Security-Policy"] == policy
    assert client.get("/missing/").headers["Content-Security-Policy"] == policy


VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def test_every_page_loads_without_a_csp_violation(
    site_server: LiveServer, built_site: Path, page: Any
) -> None:
    page.add_init_script(VIOLATIONS)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    for path in html_pages(built_site):
        url = "/" + str(path.relative_to(built_site)).removesuffix("index.html")
        page.goto(site_server.url + url, wait_until="networkidle")
        assert page.evaluate("window.__cspViolations") == [], url
    assert [line for line in console if "Content Security Policy" in line] == []
