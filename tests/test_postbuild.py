"""The after-build step any builder's output goes through: minified assets and the CSP."""

from __future__ import annotations

from pathlib import Path

from consent_api.site import postbuild

PAGE = (
    '<html><head><meta charset="utf-8"><title>{title}</title></head>'
    '<body><script>{script}</script><script src="a.js"></script>'
    '<script type="text/plain" data-category="analytics" src="b.js"></script></body></html>'
)


def _site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    (site / "about").mkdir(parents=True)
    (site / "index.html").write_text(PAGE.format(title="Home", script="one()"), encoding="utf-8")
    (site / "about" / "index.html").write_text(
        PAGE.format(title="About", script="two()"), encoding="utf-8"
    )
    return site


def test_every_page_gets_its_own_policy_and_the_site_policy_allows_every_inline_script(
    tmp_path: Path,
) -> None:
    site = _site(tmp_path)
    header = postbuild.secure(site, "/api")
    one, two = (
        postbuild.script_hashes(PAGE.format(title="", script=s)) for s in ("one()", "two()")
    )
    assert all(source in header for source in one | two)
    home = (site / "index.html").read_text(encoding="utf-8")
    assert f"script-src 'self' {next(iter(one))}" in home
    assert next(iter(two)) not in home
    assert "frame-ancestors" not in home  # browsers ignore it in a <meta> policy
    assert (site / "csp.txt").read_text(encoding="utf-8") == header + "\n"
    assert header in (site / "nginx-csp.conf").read_text(encoding="utf-8")


def test_running_it_again_changes_nothing_and_still_covers_the_whole_site(tmp_path: Path) -> None:
    # A partial rebuild (mkdocs serve --dirty) rewrites some pages only: the policy still
    # covers every page's scripts, and a page already done gets one <meta>, not two.
    site = _site(tmp_path)
    first = postbuild.secure(site, "/api")
    pages = {page: page.read_text(encoding="utf-8") for page in site.rglob("*.html")}
    assert postbuild.secure(site, "/api") == first
    assert {page: page.read_text(encoding="utf-8") for page in site.rglob("*.html")} == pages
    assert all(html.count("Content-Security-Policy") == 1 for html in pages.values())


def test_an_api_on_another_origin_is_allowed_to_be_called_and_posted_to(tmp_path: Path) -> None:
    header = postbuild.secure(_site(tmp_path), "https://api.example.org/api")
    assert "connect-src 'self' https://api.example.org;" in header
    assert "form-action 'self' https://api.example.org;" in header
