"""Privacy Policy versions: one Markdown file per version, named by its effective date.

This module is the single source of truth for which versions exist and which is in force. The
site build (``overrides/hooks``) and the service both call it; neither keeps its own list.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .exc import ConfigError

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.DOTALL)
_FILE_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}\.md$")


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

    def body(self) -> str:
        """The Markdown after the front matter."""
        text = self.path.read_text(encoding="utf-8")
        match = _FRONT_MATTER.match(text)
        return text[match.end() :] if match else text


def read_front_matter(path: Path) -> dict[str, Any]:
    """The YAML front matter of a Markdown file (empty when it has none)."""
    match = _FRONT_MATTER.match(path.read_text(encoding="utf-8"))
    if not match:
        return {}
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        raise PolicyError(path, f"front matter is not valid YAML ({error})") from error
    if not isinstance(data, dict):
        raise PolicyError(path, "front matter must be a mapping of keys to values")
    return data


def _parse(path: Path) -> PolicyVersion:
    if not _FILE_NAME.match(path.name):
        raise PolicyError(path, "a version file must be named by its effective date: YYYY-MM-DD.md")
    meta = read_front_matter(path)
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
    if path.stem != effective.isoformat():
        raise PolicyError(
            path, f"'effective' is {effective.isoformat()} but the file name says {path.stem}"
        )
    summary = meta.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise PolicyError(path, "front matter has no 'summary' of what changed")
    return PolicyVersion(effective, " ".join(summary.split()), path, meta)


def load_versions(policy_dir: Path) -> list[PolicyVersion]:
    """Every version in ``policy_dir``, oldest first, checked; raises ``PolicyError``."""
    files = sorted(p for p in policy_dir.glob("*.md") if p.name != "index.md")
    versions = sorted((_parse(path) for path in files), key=lambda v: v.effective)
    if not versions:
        raise PolicyError(policy_dir, "no policy version files (YYYY-MM-DD.md) found")
    return versions


def current_version(versions: Sequence[PolicyVersion], today: dt.date) -> PolicyVersion:
    """The version in force on ``today``: the newest whose effective date has come."""
    in_force = [v for v in versions if v.effective <= today]
    # Before the first effective date nothing is in force yet; the first version is shown.
    return in_force[-1] if in_force else versions[0]


def upcoming_versions(versions: Sequence[PolicyVersion], today: dt.date) -> list[PolicyVersion]:
    """Versions published ahead of their effective date, soonest first."""
    return [v for v in versions if v.effective > today]
