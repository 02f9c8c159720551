"""Lighthouse on every built page, mobile and desktop, beside a plain mkdocs-material baseline.

The real site is built and published as ``make build`` does it (strict build, gzip copies) and
served by ``consent-api serve``. The baseline is a generated one-page site with the same theme
settings and Material's own consent banner, published and served the same way, so that headers
and compression are the same. Every page runs once per preset; the baseline runs at the start,
the middle and the end, and its median is the reference. Lighthouse clears the cache before
each run, so the bytes are a first visit's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from .common import (
    BENCH_DIR,
    BIN,
    QUICK,
    RESULTS,
    ROOT,
    Result,
    Unavailable,
    command_line,
    median,
    new_result,
    service_server,
    target,
)

NAME = "site_lighthouse"
TITLE = "Lighthouse: every page, mobile and desktop, against plain mkdocs-material"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
LIGHTHOUSE = BENCH_DIR / "node_modules" / ".bin" / "lighthouse"
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync"
)
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
PRESETS = ("mobile", "desktop")
BUDGET_BYTES = 5 * 1024
BASELINE_PAGE = """\
# Communications infrastructure for healthcare organizations

CareCaller provides the infrastructure behind the calls, messages and voicemail that healthcare
organizations use to reach the people they serve.

## What the platform does

- Calls, messages and voicemail, with recordings and transcripts
- Scheduling and refill workflows
- Delivery reports for every message

The platform is built for organizations that must account for every message they send, and for
the people who receive them.
"""


class _Loader(yaml.SafeLoader):
    """Reads mkdocs.yml, ignoring the Python tags MkDocs allows (none is needed here)."""


_Loader.add_multi_constructor("", lambda loader, suffix, node: None)


def _baseline(work: Path) -> Path:
    """A one-page plain mkdocs-material site with the real site's theme settings and consent."""
    real = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)
    theme = {key: value for key, value in real["theme"].items() if key != "custom_dir"}
    extra = real.get("extra") or {}
    config = {
        "site_name": "Baseline",
        "site_url": "http://localhost/",
        "site_description": real.get("site_description", ""),
        "copyright": real.get("copyright", ""),
        "theme": theme,
        "extra": {"consent": extra["consent"], "generator": extra.get("generator", True)},
    }
    project = work / "baseline"
    docs = project / "docs"
    docs.mkdir(parents=True)
    # The logo and favicon are the project's files; the baseline gets the same ones.
    for key in ("logo", "favicon"):
        if key in theme:
            source = ROOT / "overrides" / theme[key]
            (docs / theme[key]).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, docs / theme[key])
    (docs / "index.md").write_text(BASELINE_PAGE, encoding="utf-8")
    (project / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return project / "mkdocs.yml"


def _build(config: Path, site_dir: Path) -> str:
    """Build and publish as ``make build`` does: strict build, then gzip copies beside."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    steps: list[list[str | Path]] = [
        [BIN / "mkdocs", "build", "--strict", "-f", config, "-d", site_dir],
        [BIN / "python", "-m", "whitenoise.compress", "--quiet", "--no-brotli", site_dir],
    ]
    for argv in steps:
        done = subprocess.run(
            argv, cwd=config.parent, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command_line(argv)} failed:\n{done.stderr[-3000:]}")
    return " && ".join(command_line(argv) for argv in steps)


def _pages(site: Path) -> list[str]:
    """The path of every built HTML page (the 404 page is not a page a visitor navigates to)."""
    paths = []
    for page in sorted(site.rglob("*.html")):
        relative = page.relative_to(site).as_posix()
        if relative == "404.html":
            continue
        paths.append("/" + relative.removesuffix("index.html"))
    return paths


def _jobs(pages: list[str], out: Path) -> list[dict[str, Any]]:
    """Baseline at the start, middle and end; every page once per preset in between."""
    if QUICK:
        pages = pages[:2]
    middle = (len(pages) + 1) // 2
    order = [None, *pages[:middle], None, *pages[middle:], None] if not QUICK else [None, *pages]
    jobs = []
    for count, page in enumerate(order):
        for preset in PRESETS:
            site = "baseline" if page is None else "site"
            slug = "baseline" if page is None else (page.strip("/").replace("/", "_") or "home")
            jobs.append(
                {
                    "site": site,
                    "page": page or "/",
                    "preset": preset,
                    "output": str(out / f"{count:02d}-{preset}-{slug}.json"),
                }
            )
    return jobs


def _summary(report: dict[str, Any], origin: str, baseline_paths: set[str]) -> dict[str, Any]:
    audits = report["audits"]
    scores = {
        name: round(report["categories"][name]["score"] * 100)
        if report["categories"][name]["score"] is not None
        else None
        for name in CATEGORIES
    }
    requests = audits["network-requests"]["details"]["items"]
    network = [r for r in requests if urlsplit(r["url"]).scheme in {"http", "https"}]
    other_hosts = [
        r["url"]
        for r in network
        if f"{urlsplit(r['url']).scheme}://{urlsplit(r['url']).netloc}" != origin
    ]
    own = [
        r
        for r in network
        if r.get("resourceType") in {"Script", "Stylesheet"}
        and urlsplit(r["url"]).path not in baseline_paths
    ]
    failing: dict[str, list[str]] = {}
    for name in CATEGORIES:
        for ref in report["categories"][name]["auditRefs"]:
            audit = audits[ref["id"]]
            if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
                failing.setdefault(name, []).append(f"{ref['id']} ({audit['score']:.2f})")
    document = next((r for r in network if r["resourceType"] == "Document"), None)
    resources: dict[str, int] = {}
    for r in network:
        key = "HTML document" if r is document else urlsplit(r["url"]).path
        resources[key] = resources.get(key, 0) + r.get("transferSize", 0)
    return {
        "scores": scores,
        "total_bytes": audits["total-byte-weight"]["numericValue"],
        "document_bytes": document["transferSize"] if document else 0,
        "requests": len(network),
        "other_hosts": other_hosts,
        "own_js_css_bytes": sum(r.get("transferSize", 0) for r in own),
        "own_js_css": [urlsplit(r["url"]).path for r in own],
        "failing_audits": failing,
        "resources": resources,
        "runtime_error": (report.get("runtimeError") or {}).get("code"),
        "attempts": report.get("benchAttempts", 1),
    }


def _require_tools() -> str:
    node = shutil.which("node")
    if node is None:
        raise Unavailable("Node.js is not installed (Lighthouse needs Node 18 or later)")
    if not LIGHTHOUSE.exists():
        raise Unavailable("Lighthouse is not installed: run `make bench` (npm ci in bench/)")
    if not Path(CHROME).exists():
        raise Unavailable(f"Chromium is not at {CHROME} (apt-get install chromium)")
    return node


def run() -> Result:
    result = new_result(NAME, TITLE)
    node = _require_tools()
    work = RESULTS / "work" / NAME
    out = RESULTS / "lighthouse"
    for folder in (work, out):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    result["commands"].append(_build(ROOT / "mkdocs.yml", work / "site"))
    result["commands"].append(_build(_baseline(work), work / "baseline-site"))
    database = f"sqlite:///{work / 'lighthouse.sqlite3'}"
    site_env = {"CONSENT_API_SITE_DIR": str(work / "site"), "CONSENT_API_DATABASE_URL": database}
    base_env = {**site_env, "CONSENT_API_SITE_DIR": str(work / "baseline-site")}
    pages = _pages(work / "site")
    jobs: list[dict[str, Any]] = list(_jobs(pages, out))
    with (
        service_server(f"{NAME}-site", site_env) as site,
        service_server(f"{NAME}-baseline", base_env) as baseline,
    ):
        servers = {"site": site, "baseline": baseline}
        for job in jobs:
            job["url"] = servers[job["site"]].url + job["page"]
        jobs_file = work / "jobs.json"
        jobs_file.write_text(json.dumps(jobs, indent=1), encoding="utf-8")
        argv: list[str | Path] = [node, BENCH_DIR / "lighthouse.mjs", jobs_file]
        done = subprocess.run(
            argv,
            env={**os.environ, "CHROME_PATH": CHROME},
            capture_output=True,
            text=True,
            check=False,
        )
        result["commands"] += [
            f"consent-api serve (site and baseline alike): {' '.join(site.argv[1:])}",
            command_line(["node", *argv[1:]], {"CHROME_PATH": CHROME}),
            "equivalent to, per page: "
            + command_line(
                ["bench/node_modules/.bin/lighthouse", "URL", "[--preset=desktop]"],
                {"CHROME_PATH": CHROME},
            )
            + f' --chrome-flags="{CHROME_FLAGS}" --disable-full-page-screenshot',
        ]
    result["runner_output"] = (done.stdout + done.stderr)[-4000:]
    runs: list[dict[str, Any]] = []
    baseline_paths: set[str] = set()
    for job in jobs:
        path = Path(job["output"])
        if not path.exists():
            runs.append({**job, "error": "no report (see runner_output)"})
            continue
        report = json.loads(path.read_text(encoding="utf-8"))
        if job["site"] == "baseline":
            items = report["audits"]["network-requests"]["details"]["items"]
            baseline_paths |= {urlsplit(item["url"]).path for item in items}
        origin = f"{urlsplit(job['url']).scheme}://{urlsplit(job['url']).netloc}"
        runs.append({**job, "report": path.name, "origin": origin, "_report": report})
    for entry in runs:
        report = entry.pop("_report", None)
        if report is not None:
            entry.update(_summary(report, entry.pop("origin"), baseline_paths))
            entry["own_js_css_body_bytes"] = _served_bytes(work / "site", entry["own_js_css"])
    result["runs"] = runs
    result["pages"] = pages if not QUICK else pages[:2]
    _evaluate(result)
    return result


def _served_bytes(site_dir: Path, paths: list[str]) -> int:
    """The bytes of these files' bodies as served to a browser that accepts gzip: the gzip copy
    the build published (which the server sends), or the file itself without one."""
    total = 0
    for path in paths:
        file = site_dir / path.lstrip("/")
        compressed = file.with_name(file.name + ".gz")
        total += (compressed if compressed.is_file() else file).stat().st_size
    return total


def _evaluate(result: Result) -> None:
    runs = [r for r in result["runs"] if "scores" in r]
    failed = [r for r in result["runs"] if "scores" not in r or r.get("runtime_error")]
    base: dict[str, dict[str, Any]] = {
        preset: {
            "total_bytes": median(
                [
                    r["total_bytes"]
                    for r in runs
                    if r["site"] == "baseline" and r["preset"] == preset
                ]
            ),
            "scores": {
                name: median(
                    [
                        r["scores"][name] or 0
                        for r in runs
                        if r["site"] == "baseline" and r["preset"] == preset
                    ]
                )
                for name in CATEGORIES
            },
        }
        for preset in PRESETS
    }
    result["baseline"] = base
    site_runs = [r for r in runs if r["site"] == "site"]
    for r in site_runs:
        r["over_baseline_bytes"] = r["total_bytes"] - base[r["preset"]]["total_bytes"]
        r["extra_bytes"] = _deltas(r, runs)
    perfect = [r for r in site_runs if all(r["scores"][name] == 100 for name in CATEGORIES)]
    lowest = []
    for name in CATEGORIES:
        worst = min(site_runs, key=lambda r: r["scores"][name] or 0, default=None)
        if worst is not None and worst["scores"][name] != 100:
            lowest.append(f"{name} {worst['scores'][name]} ({worst['page']}, {worst['preset']})")
    other = sorted({url for r in site_runs for url in r["other_hosts"]})
    heaviest = max(site_runs, key=lambda r: r["over_baseline_bytes"], default=None)
    if heaviest is not None:
        result["heaviest_differences"] = _largest(heaviest["extra_bytes"])
    over = [r for r in site_runs if r["over_baseline_bytes"] > BUDGET_BYTES]
    result["every_page_extra"] = _largest(_common(site_runs))
    own = max(site_runs, key=lambda r: r.get("own_js_css_body_bytes", 0), default=None)
    result["targets"] = [
        target(
            "100 in all four categories, every page and preset",
            "100",
            f"{len(perfect)} of {len(site_runs)} runs"
            + (f"; lowest: {'; '.join(lowest)}" if lowest else "")
            + (f"; {len(failed)} runs failed" if failed else ""),
            len(perfect) == len(site_runs) and not failed and bool(site_runs),
        ),
        target(
            "requests to other hosts",
            "0",
            f"{len(other)}" + (f": {', '.join(other[:5])}" if other else ""),
            not other and bool(site_runs),
        ),
    ]
    if heaviest is not None and own is not None:
        result["targets"] += [
            target(
                "page weight vs baseline page",
                "≤ baseline + 5 KB",
                f"{len(over)} of {len(site_runs)} runs over; "
                f"heaviest {heaviest['page']} ({heaviest['preset']}): "
                f"{heaviest['total_bytes'] / 1024:.1f} KB vs "
                f"{base[heaviest['preset']]['total_bytes'] / 1024:.1f} KB "
                f"({heaviest['over_baseline_bytes'] / 1024:+.1f} KB: "
                f"{result['heaviest_differences']}); on every page at least: "
                f"{result['every_page_extra'] or 'nothing'}",
                heaviest["over_baseline_bytes"] <= BUDGET_BYTES,
            ),
            target(
                "the project's own JS and CSS (not in the baseline), gzipped",
                "≤ 5 KB",
                f"{own['own_js_css_body_bytes'] / 1024:.1f} KB at most "
                f"({', '.join(own['own_js_css']) or 'none'}); "
                f"{own['own_js_css_bytes'] / 1024:.1f} KB transferred with response headers",
                own["own_js_css_body_bytes"] <= BUDGET_BYTES,
            ),
        ]


def _deltas(run: dict[str, Any], runs: list[dict[str, Any]]) -> dict[str, int]:
    """A page's bytes per resource minus the baseline's (same preset), where they differ."""
    base = next(r for r in runs if r["site"] == "baseline" and r["preset"] == run["preset"])
    keys = set(run["resources"]) | set(base["resources"])
    deltas = {k: run["resources"].get(k, 0) - base["resources"].get(k, 0) for k in keys}
    return {key: delta for key, delta in deltas.items() if delta}


def _common(site_runs: list[dict[str, Any]]) -> dict[str, int]:
    """What every page adds over the baseline: resources heavier on all of them, by the least."""
    common = (
        set.intersection(*({k for k, v in r["extra_bytes"].items() if v > 0} for r in site_runs))
        if site_runs
        else set()
    )
    return {key: min(r["extra_bytes"][key] for r in site_runs) for key in common}


def _largest(deltas: dict[str, int], count: int = 4) -> str:
    """Where extra bytes go, largest first: ``HTML document +1.5 KB, ...``."""
    largest = sorted(deltas, key=lambda key: -abs(deltas[key]))[:count]
    return ", ".join(f"{key} {deltas[key] / 1024:+.1f} KB" for key in largest)


def markdown(result: Result) -> list[str]:
    repeats = "once" if result.get("quick") else "three times"
    lines = [
        "Every page once per preset (a full repeat of every page would not fit the time budget); "
        f"the baseline {repeats} per preset, median shown. Scores are Lighthouse's 0-100; "
        "bytes are transferred bytes (total-byte-weight); 'other hosts' counts requests to any "
        "origin but the page's own; 'extra bytes go to' names the resources whose bytes differ "
        "most from the baseline's (transferred bytes, response headers included), largest first.",
        "",
        "| page | preset | perf | a11y | best pr. | SEO | KB | vs baseline KB | requests "
        "| other hosts | below 100 because | extra bytes go to |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for preset, base in result["baseline"].items():
        s = base["scores"]
        lines.append(
            f"| baseline (median) | {preset} | {s['performance']:.0f} | {s['accessibility']:.0f} "
            f"| {s['best-practices']:.0f} | {s['seo']:.0f} | {base['total_bytes'] / 1024:.1f} "
            "| — | — | — | | |"
        )
    for r in result["runs"]:
        if r["site"] != "site":
            continue
        if "scores" not in r:
            lines.append(f"| {r['page']} | {r['preset']} | {r.get('error', 'failed')} |")
            continue
        s = r["scores"]
        why = "; ".join(
            f"{name}: {', '.join(audits[:4])}" for name, audits in r["failing_audits"].items()
        )
        if r["runtime_error"]:
            why = f"Lighthouse failed ({r['runtime_error']}, {r['attempts']} attempts); {why}"
        lines.append(
            f"| {r['page']} | {r['preset']} | {s['performance']} | {s['accessibility']} | "
            f"{s['best-practices']} | {s['seo']} | {r['total_bytes'] / 1024:.1f} | "
            f"{r['over_baseline_bytes'] / 1024:+.1f} | {r['requests']} | "
            f"{len(r['other_hosts'])} | {why} | {_largest(r.get('extra_bytes', {}), 3)} |"
        )
    lines += ["", "Full Lighthouse reports: `bench/results/lighthouse/`."]
    return lines
