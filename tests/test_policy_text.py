"""The Privacy Policy is published verbatim: no word of the legal text may drift."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT
from sitecheck import parse

SEED = Path(__file__).parent / "data" / "privacy-policy-2026-03-24.txt"
SHARED_SEED = ROOT.parent / "shared" / "seed" / SEED.name


def seed_lines() -> list[str]:
    return [
        " ".join(line.split())
        for line in SEED.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def test_fixture_is_the_customers_text() -> None:
    if not SHARED_SEED.exists():
        pytest.skip(f"{SHARED_SEED} is not beside this checkout")
    assert SEED.read_bytes() == SHARED_SEED.read_bytes()


@pytest.mark.parametrize(
    "page", ["legal/privacy/index.html", "legal/privacy/2026-03-24/index.html"]
)
def test_policy_page_holds_the_seed_text_sentence_by_sentence(built_site: Path, page: str) -> None:
    rendered = parse(built_site / page).article_lines()
    expected = seed_lines()
    # Every line of the customer's text appears, in order, as one block of the page.
    position = 0
    for line in expected:
        assert line in rendered[position:], f"missing or out of order: {line!r}"
        position = rendered.index(line, position) + 1
