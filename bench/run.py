"""``python -m bench.run [NAME ...]``: run the benchmarks (all by default), then write the report.

A benchmark whose subject does not exist yet, or that fails, still gets its section in the
report, saying so; the other benchmarks run regardless.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from types import ModuleType

from . import (
    report,
    service_events,
    service_memory,
    service_purge,
    service_servers,
    service_throughput,
    site_build,
    site_lighthouse,
)
from .common import QUICK, RESULTS, Result, Unavailable, new_result, save

#: In the report's order; the site first, then the service.
BENCHMARKS: list[ModuleType] = [
    site_lighthouse,
    site_build,
    service_throughput,
    service_servers,
    service_memory,
    service_purge,
    service_events,
]


def _run_one(module: ModuleType) -> Result:
    started = time.perf_counter()
    runner: Callable[[], Result] = module.run
    try:
        result = runner()
    except Unavailable as reason:
        result = new_result(module.NAME, module.TITLE)
        result.update(status="not available", reason=str(reason))
    except Exception as error:
        traceback.print_exc()
        result = new_result(module.NAME, module.TITLE)
        result.update(status="error", reason=f"{type(error).__name__}: {error}")
    result["seconds"] = time.perf_counter() - started
    return result


def main(argv: list[str] | None = None) -> int:
    names = [module.NAME for module in BENCHMARKS]
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(names))
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(names))
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(unknown)} (known: {', '.join(names)})")
    chosen = [module for module in BENCHMARKS if not args.names or module.NAME in args.names]
    print(f"bench: running {', '.join(m.NAME for m in chosen)}" + (" (quick)" if QUICK else ""))
    failed = False
    for module in chosen:
        print(f"bench: {module.NAME} ...", flush=True)
        result = _run_one(module)
        save(module.NAME, result)
        failed = failed or result["status"] == "error"
        verdicts = [item["passed"] for item in result["targets"]]
        print(
            f"bench: {module.NAME}: {result['status']} in {result['seconds']:.0f} s"
            f"{' - ' + result['reason'] if result['reason'] else ''}; targets met "
            f"{verdicts.count(True)}/{len(verdicts)}",
            flush=True,
        )
    shutil.rmtree(RESULTS / "work", ignore_errors=True)
    path = report.render([(module.NAME, module.markdown) for module in BENCHMARKS])
    print(f"bench: report written to {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
