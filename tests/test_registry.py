"""The declarations shared by the site build and the service, read from mkdocs.yml."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from consent_api.exc import ConfigError
from consent_api.site import registry


def test_real_site_declares_analytics_and_a_period_per_kind() -> None:
    reg = registry.load(ROOT / "mkdocs.yml")
    assert "analytics" in reg.categories
    assert registry.NECESSARY not in reg.categories
    assert set(reg.retention) == {
        "consent",
        "contact",
        "demo",
        "privacy_request",
        "analytics",
        "request_log",
    }
    assert "2026-03-24" in reg.version_ids


def write_site(tmp_path: Path, extra: dict[str, object]) -> Path:
    """A minimal site: one policy version and a mkdocs.yml with ``extra``."""
    policy = tmp_path / "docs" / "legal" / "privacy"
    policy.mkdir(parents=True)
    (policy / "2026-03-24.md").write_text(
        "---\neffective: 2026-03-24\nsummary: First.\n---\n# Privacy Policy\n", encoding="utf-8"
    )
    config = tmp_path / "mkdocs.yml"
    config.write_text(yaml.safe_dump({"site_name": "T", "extra": extra}), encoding="utf-8")
    return config


RETENTION = {kind: {"days": 30} for kind in registry.RETAINED}


def test_banner_fingerprint_changes_with_banner_text(tmp_path: Path) -> None:
    one = registry.load(
        write_site(tmp_path / "a", {"consent": {"title": "A"}, "retention": RETENTION})
    )
    two = registry.load(
        write_site(tmp_path / "b", {"consent": {"title": "B"}, "retention": RETENTION})
    )
    assert one.banner_fingerprint != two.banner_fingerprint


def test_necessary_cannot_be_an_optional_category(tmp_path: Path) -> None:
    extra = {"consent": {"cookies": {"necessary": "N"}}, "retention": RETENTION}
    with pytest.raises(ConfigError, match="always on"):
        registry.load(write_site(tmp_path, extra))


@pytest.mark.parametrize("days", [None, 0, "ten"])
def test_retention_needs_whole_positive_days(tmp_path: Path, days: object) -> None:
    retention = {**RETENTION, "contact": {"days": days}}
    with pytest.raises(ConfigError, match=r"extra\.retention\.contact\.days"):
        registry.load(write_site(tmp_path, {"retention": retention}))


def test_current_version_follows_the_date(tmp_path: Path) -> None:
    reg = registry.load(write_site(tmp_path, {"retention": RETENTION}))
    assert reg.current_version(dt.date(2026, 11, 29)).id == "2026-03-24"
