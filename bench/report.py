"""``bench/results/report.md``: every benchmark's latest result, with commands and machine."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

from .common import RESULTS, Result, describe_machine, machine

Renderer = Callable[[Result], list[str]]
VERDICT = {True: "pass", False: "**miss**", None: "not measured"}


def _machine_line(info: Mapping[str, object]) -> str:
    load = ", ".join(str(value) for value in info["load_average"])  # type: ignore[attr-defined]
    return (
        f"{describe_machine(info)}; {info['kernel']}, Python {info['python']}; "
        f"load average at start {load}; commit `{info['commit']}`"
    )


def _cell(text: object) -> str:
    """Text that stays inside one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def load_results(names: list[str]) -> dict[str, Result]:
    found = {}
    for name in names:
        path = RESULTS / f"{name}.json"
        if path.is_file():
            found[name] = json.loads(path.read_text(encoding="utf-8"))
    return found


def render(order: list[tuple[str, Renderer]]) -> Path:
    """Write the report from the JSON files of the benchmarks in ``order``."""
    results = load_results([name for name, _ in order])
    lines = [
        "# Benchmark report",
        "",
        f"Written by `make bench` on: {_machine_line(machine())}.",
        "",
        "Each section says when and where it ran: a section may come from an earlier run when",
        "`python -m bench.run NAME` re-ran only some benchmarks. Raw figures are in the JSON",
        "files beside this report.",
        "",
        "## Targets",
        "",
        "| benchmark | target | goal | measured | verdict |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, _ in order:
        result = results.get(name)
        if result is None:
            lines.append(f"| {name} | — | — | not run | not measured |")
            continue
        if result["status"] != "ok":
            reason = _cell(result["reason"])
            lines.append(f"| {name} | — | — | {result['status']}: {reason} | — |")
            continue
        for item in result["targets"]:
            lines.append(
                f"| {name} | {item['name']} | {item['goal']} | {_cell(item['measured'])} | "
                f"{VERDICT[item['passed']]} |"
            )
    for name, renderer in order:
        result = results.get(name)
        if result is None:
            continue
        quick = " (BENCH_QUICK=1: reduced counts)" if result.get("quick") else ""
        lines += [
            "",
            f"## {result['title']}",
            "",
            f"Ran {result['started_at']}{quick}, {result.get('seconds', 0):.0f} s, on "
            f"{_machine_line(result['machine'])}.",
            "",
        ]
        if result["status"] != "ok":
            lines.append(f"**{result['status'].capitalize()}**: {_cell(result['reason'])}")
            continue
        lines += renderer(result)
        if result["commands"]:
            lines += ["", "Commands:", ""]
            lines += [f"- `{command}`" for command in dict.fromkeys(result["commands"])]
    path = RESULTS / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
