"""The Makefile's set-up: on a machine without the system packages, ``make test`` and
``make bench`` install them as root, and otherwise stop at once with the command to run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import ROOT

TEST_PACKAGES = "chromium nginx-light systemd"
BENCH_PACKAGES = "wrk nodejs npm"


def make(*args: str, silent: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *(["-s"] if silent else []), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


@pytest.fixture
def bare_machine(tmp_path: Path) -> str:
    """The package probe pointed at an empty folder: no system package is found."""
    empty = tmp_path / "bin"
    empty.mkdir()
    return f"SYSTEM_BIN_DIRS={empty}"


@pytest.mark.parametrize(
    ("target", "packages"), [("system-test", TEST_PACKAGES), ("system-bench", BENCH_PACKAGES)]
)
def test_as_root_the_missing_packages_are_installed_with_apt(
    bare_machine: str, target: str, packages: str
) -> None:
    result = make(target, bare_machine, "AS_ROOT=yes", "APT_DRY_RUN=1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "apt-get update -qq",
        f"env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq {packages}",
    ]


@pytest.mark.parametrize(
    ("target", "packages"), [("system-test", TEST_PACKAGES), ("system-bench", BENCH_PACKAGES)]
)
def test_otherwise_make_stops_with_the_command_to_run(
    bare_machine: str, target: str, packages: str
) -> None:
    result = make(target, bare_machine, "AS_ROOT=", "APT_DRY_RUN=1")
    assert result.returncode != 0
    assert result.stdout == ""  # nothing was run
    assert f"missing system packages: {packages}." in result.stderr
    assert f"  apt-get update && apt-get install -y {packages}\n" in result.stderr


def test_make_test_checks_the_packages_before_anything_else(bare_machine: str) -> None:
    # Not silent: a wrong order would show the lint commands, then a pytest run that finds no
    # such file.
    result = make(
        "test", bare_machine, "AS_ROOT=", "PYTEST_ARGS=tests/no_such_file.py", silent=False
    )
    assert result.returncode != 0
    assert f"apt-get install -y {TEST_PACKAGES}" in result.stderr
    assert "ruff" not in result.stdout + result.stderr
    assert "no_such_file" not in result.stdout + result.stderr


def test_make_bench_checks_the_packages_before_anything_else(bare_machine: str) -> None:
    result = make("bench", bare_machine, "AS_ROOT=", "BENCH_ARGS=--no-such-option", silent=False)
    assert result.returncode != 0
    assert f"apt-get install -y {BENCH_PACKAGES}" in result.stderr
    assert "npm ci" not in result.stdout
    assert "bench.run" not in result.stdout + result.stderr


def test_a_machine_with_the_packages_needs_nothing_installed(tmp_path: Path) -> None:
    for command in ("chromium", "nginx", "systemd-analyze"):
        (tmp_path / command).touch(mode=0o755)
    result = make("system-test", f"SYSTEM_BIN_DIRS={tmp_path}", "AS_ROOT=yes", "APT_DRY_RUN=1")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
