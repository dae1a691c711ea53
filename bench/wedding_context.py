"""The seed's wedding-day queries on ``apm_metrics`` at scale: do they read the wedding-day index, not every row?

Usage (PostgreSQL up)::

    .venv/bin/python bench/wedding_context.py [--rows 10000000] [--org rosewood-florals] [--keep]

On a scratch database (``bench/_scratch.py``): migrate, ``seed_demo``
(organizations, weddings today and every coming Saturday), ``--rows`` more
points over the last 14 days with their wedding context
(``bench/_metrics_load.py``); then, as the application role in the
organization's vendor context, runs each query of
``_metrics_load.SEED_QUERIES`` and prints its ``EXPLAIN (ANALYZE,
BUFFERS)``, the rows it returned and whether the plan read
``idx_apm_metrics_wedding_day`` (the partial index of wedding-day rows)
and no partition by a sequential scan. Exits 1 when a plan scans. Drops the
database afterwards.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _metrics_load import load_points, seed_query_plans  # noqa: E402
from _scratch import PYTHON, ROOT, log, scratch_database, scratch_env  # noqa: E402


def plan_verdict(lines: list[str]) -> tuple[bool, str]:
    """``(reads the wedding-day index and scans no rows, summary)`` of an EXPLAIN ANALYZE text.

    A sequential scan of an empty partition (tomorrow's, created ahead;
    ``rows=0``, nothing to read) is not a scan of data and is not counted
    as one; the summary names how many there were.
    """
    import re

    scans = [ln for ln in lines if "Seq Scan on apm_metrics" in ln]
    empty = [ln for ln in scans if re.search(r"actual time=\S+ rows=0 ", ln)]
    index = [ln for ln in lines if "organization_id_recorded_at_idx" in ln or "idx_apm_metrics_wedding_day" in ln]
    took = next((ln.strip() for ln in lines if ln.startswith("Execution Time")), "")
    ok = bool(index) and len(scans) == len(empty)
    return ok, (
        f"{len(index)} index node(s) on the wedding-day index, {len(scans) - len(empty)} sequential scan(s) "
        f"of data ({len(empty)} of an empty partition); {took}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="metric points to load (default 10 million)")
    parser.add_argument("--org", default="rosewood-florals", help="the organization whose queries run")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be positive")
    with scratch_database("bench_wedding", keep=args.keep) as db_name:
        log("seed_demo (organizations, weddings)")
        subprocess.run(
            [PYTHON, "manage.py", "seed_demo", "--quiet", "--minutes", "60"],
            cwd=ROOT,
            env=scratch_env(db_name, LOG_LEVEL="WARNING"),
            check=True,
        )
        load_points(db_name, args.rows, days=14)
        ok = True
        for name, (lines, rows) in seed_query_plans(db_name, args.org).items():
            good, summary = plan_verdict(lines)
            ok = ok and good
            print(f"\n== {name}: {rows} rows; {summary}: {'index, no scan' if good else 'NOT from the index'}")
            print("\n".join(lines))
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
