"""The staging step that hands another builder what the MkDocs hook makes in memory."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from consent_api.exc import ConfigError
from consent_api.site import stage


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    for folder in ("docs", "overrides"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def test_the_staged_configuration_has_no_hooks_no_dates_and_the_generated_values(
    project: Path,
) -> None:
    config = yaml.safe_load(stage.stage(project / "mkdocs.yml", dt.date(2026, 12, 1)).read_text())
    assert "hooks" not in config
    assert config["docs_dir"] == stage.STAGING
    assert config["extra"]["policy"]["first_effective"] == "2026-03-24"
    assert config["extra"]["generated"]["policy_version"] == "2026-03-24"
    assert not (project / stage.THEME / "hooks").exists()
    assert (project / stage.THEME / "main.html").exists()


def test_generated_pages_and_notices_are_written_beside_the_docs(project: Path) -> None:
    stage.stage(project / "mkdocs.yml", dt.date(2026, 12, 1))
    staged = project / stage.STAGING
    index = (staged / "legal/privacy/index.md").read_text(encoding="utf-8")
    assert "Last Updated: March 24, 2026" in index
    assert (staged / "legal/privacy/feed.xml").read_bytes().startswith(b"<?xml")
    assert "| Contact inquiries | 365 days |" in (staged / "legal/retention.md").read_text()
    contact = (staged / "contact.md").read_text(encoding="utf-8")
    assert 'action="/api/contact"' in contact
    version = (staged / "legal/privacy/2026-03-24.md").read_text(encoding="utf-8")
    meta = yaml.safe_load(version.split("---\n")[1])
    assert meta["search"] == {"exclude": True}
    assert meta["effective"] == "2026-03-24"


def test_a_configuration_that_sets_the_builds_own_values_is_refused(project: Path) -> None:
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("  consent:\n", "  consent:\n    checked: true\n", 1))
    with pytest.raises(ConfigError, match=r"extra\.consent\.checked is unknown"):
        stage.stage(config)
