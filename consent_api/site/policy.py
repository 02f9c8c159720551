"""Privacy Policy versions: one Markdown file per version, named by its effective date.

This module is the single source of truth for which versions exist and which is in force. The
site build (``overrides/hooks``) and the service both call it; neither keeps its own list.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

from consent_api.exc import ConfigError

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.DOTALL)
_FILE_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}\.md$")
_TITLE = re.compile(r"^# \S", re.MULTILINE)
# The build writes this line from ``effective``; typed by hand it could disagree.
_LAST_UPDATED = re.compile(r"^\s*\**Last Updated\b", re.MULTILINE | re.IGNORECASE)


class PolicyError(ConfigError):
    """A version file is malformed; the message names the file and what is wrong."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class PolicyVersion:
    """One version of the Privacy Policy."""

    effective: dt.date
    summary: str
    path: Path
    meta: dict[str, Any]

    @property
    def id(self) -> str:
        """The version's identifier everywhere: its effective date, ``YYYY-MM-DD``."""
        return self.effective.isoformat()

    def source(self) -> str:
        """The whole file, front matter included."""
        return self.path.read_text(encoding="utf-8")

    def body(self) -> str:
        """The Markdown after the front matter."""
        text = self.source()
        match = _FRONT_MATTER.match(text)
        return text[match.end() :] if match else text


def read_front_matter(path: Path) -> dict[str, Any]:
    """The YAML front matter of a Markdown file (empty when it has none)."""
    match = _FRONT_MATTER.match(path.read_text(encoding="utf-8"))
    if not match:
        return {}
    try:
        data = yaml.safe_load(match.group(1))
    except (yaml.YAMLError, ValueError) as error:
        # PyYAML reads an impossible date such as 2026-06-31 as a date and fails with ValueError.
        raise PolicyError(path, f"front matter is not valid YAML ({error})") from error
    if not isinstance(data, dict):
        raise PolicyError(path, "front matter must be a mapping of keys to values")
    return data


def _parse(path: Path) -> PolicyVersion:
    if path.name == "index.md":
        raise PolicyError(path, "index.md is generated from the version files: delete it")
    if not _FILE_NAME.match(path.name):
        raise PolicyError(path, "a version file must be named by its effective date: YYYY-MM-DD.md")
    meta = read_front_matter(path)
    if not meta:
        raise PolicyError(path, "no front matter: start the file with 'effective' and 'summary'")
    effective = meta.get("effective")
    if effective is None:
        raise PolicyError(path, "front matter has no 'effective' date (effective: YYYY-MM-DD)")
    if isinstance(effective, str):
        try:
            effective = dt.date.fromisoformat(effective)
        except ValueError as error:
            raise PolicyError(path, f"'effective' is not a date: {effective!r}") from error
    if isinstance(effective, dt.datetime) or not isinstance(effective, dt.date):
        raise PolicyError(path, f"'effective' must be a date (YYYY-MM-DD), not {effective!r}")
    summary = meta.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise PolicyError(path, "front matter has no 'summary' of what changed")
    version = PolicyVersion(effective, " ".join(summary.split()), path, meta)
    body = version.body()
    if not _TITLE.search(body):
        raise PolicyError(path, "the text has no title: start it with a '# Privacy Policy' line")
    if _LAST_UPDATED.search(body):
        raise PolicyError(
            path, "delete the 'Last Updated' line: the build writes it from 'effective'"
        )
    return version


def load_versions(policy_dir: Path, first_effective: dt.date | None = None) -> list[PolicyVersion]:
    """Every version in ``policy_dir``, oldest first, checked; raises ``PolicyError``.

    ``first_effective`` anchors the history: no version may take effect before it, and a version
    must take effect on it.
    """
    versions = sorted(
        (_parse(path) for path in sorted(policy_dir.glob("*.md"))), key=lambda v: v.effective
    )
    if not versions:
        raise PolicyError(policy_dir, "no policy version files (YYYY-MM-DD.md) found")
    for before, after in pairwise(versions):
        if before.effective == after.effective:
            raise PolicyError(
                after.path,
                f"{before.path.name} takes effect on the same date ({after.id}): "
                "give each version its own 'effective' date",
            )
    for version in versions:
        if version.path.stem != version.id:
            raise PolicyError(
                version.path,
                f"'effective' is {version.id} but the file name says {version.path.stem}",
            )
        if first_effective and version.effective < first_effective:
            raise PolicyError(
                version.path,
                f"'effective' is {version.id}, earlier than the first version's date "
                f"{first_effective.isoformat()} (extra.policy.first_effective in mkdocs.yml)",
            )
    if first_effective and versions[0].effective != first_effective:
        raise PolicyError(
            policy_dir,
            f"no version file for the first version's date {first_effective.isoformat()} "
            "(extra.policy.first_effective in mkdocs.yml)",
        )
    return versions


def current_version(versions: Sequence[PolicyVersion], today: dt.date) -> PolicyVersion:
    """The version in force on ``today``: the newest whose effective date has come."""
    in_force = [v for v in versions if v.effective <= today]
    # Before the first effective date nothing is in force yet; the first version is shown.
    return in_force[-1] if in_force else versions[0]


def upcoming_versions(versions: Sequence[PolicyVersion], today: dt.date) -> list[PolicyVersion]:
    """Versions published ahead of their effective date, soonest first."""
    return [v for v in versions if v.effective > today]


def previous_version(
    versions: Sequence[PolicyVersion], version: PolicyVersion
) -> PolicyVersion | None:
    """The version ``version`` replaced, or ``None`` for the first."""
    earlier = [v for v in versions if v.effective < version.effective]
    return earlier[-1] if earlier else None
