"""consent_api.site.policy: which versions exist, which is in force, what a version file holds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from consent_api.exc import ConfigError
from consent_api.site import registry
from consent_api.site.policy import (
    PolicyError,
    current_version,
    load_versions,
    previous_version,
    upcoming_versions,
)


def write(folder: Path, name: str, effective: str, body: str = "# Privacy Policy\n") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = f"---\neffective: {effective}\nsummary: Why.\n---\n{body}"
    (folder / f"{name}.md").write_text(text, encoding="utf-8")


@pytest.fixture
def three(tmp_path: Path) -> Path:
    for date in ("2026-03-24", "2026-06-01", "2026-09-01"):
        write(tmp_path, date, date)
    return tmp_path


def test_versions_are_oldest_first_and_know_their_predecessor(three: Path) -> None:
    versions = load_versions(three, dt.date(2026, 3, 24))
    assert [v.id for v in versions] == ["2026-03-24", "2026-06-01", "2026-09-01"]
    assert previous_version(versions, versions[0]) is None
    assert previous_version(versions, versions[2]) == versions[1]


@pytest.mark.parametrize(
    ("today", "current", "upcoming"),
    [
        ("2026-03-23", "2026-03-24", ["2026-03-24", "2026-06-01", "2026-09-01"]),
        ("2026-06-01", "2026-06-01", ["2026-09-01"]),
        ("2026-08-31", "2026-06-01", ["2026-09-01"]),
        ("2027-01-01", "2026-09-01", []),
    ],
)
def test_the_version_in_force_changes_on_its_effective_date(
    three: Path, today: str, current: str, upcoming: list[str]
) -> None:
    versions, day = load_versions(three), dt.date.fromisoformat(today)
    assert current_version(versions, day).id == current
    assert [v.id for v in upcoming_versions(versions, day)] == upcoming


BAD = {
    "file name is not a date": ("draft", "2026-06-01", "# Privacy Policy\n", "named by its"),
    "name and date disagree": ("2026-06-02", "2026-06-03", "# Privacy Policy\n", "file name"),
    "no title": ("2026-06-01", "2026-06-01", "Some text.\n", "no title"),
    "typed Last Updated": (
        "2026-06-01",
        "2026-06-01",
        "# Privacy Policy\n\n**Last Updated:** June 1, 2026\n",
        "delete the 'Last Updated' line",
    ),
    "generated page kept by hand": ("index", "2026-06-01", "# Privacy Policy\n", "generated"),
}


@pytest.mark.parametrize(("name", "effective", "body", "message"), BAD.values(), ids=BAD.keys())
def test_a_malformed_version_is_refused_naming_its_file(
    three: Path, name: str, effective: str, body: str, message: str
) -> None:
    write(three, name, effective, body)
    with pytest.raises(PolicyError, match=message) as error:
        load_versions(three)
    assert error.value.path == three / f"{name}.md"


def test_the_first_version_must_exist_on_the_anchored_date(three: Path) -> None:
    with pytest.raises(PolicyError, match="no version file for the first version's date"):
        load_versions(three, dt.date(2026, 3, 1))


def test_first_effective_must_be_a_date(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"extra\.policy\.first_effective"):
        registry.first_effective({"policy": {"first_effective": "March"}}, tmp_path)
