"""What error_reports' WS-259 columns cost ingest: the trigger against the same columns set inline by the INSERT.

Usage (PostgreSQL up)::

    .venv/bin/python bench/error_ingest.py [--rows 20000] [--rounds 5] [--keep]

On a scratch database (``bench/_scratch.py``): 50 organizations (a wedding today for every tenth),
200 error patterns. Each round stages ``--rows`` reports into ingest's session-local staging table
(as ``apm.services.errors_ingest`` does) and times, alternately, the statement that moves them into
``error_reports`` (``apm/sql/queries/error_reports_move_staged.sql``, unchanged):

- ``trigger``: as shipped; ``error_reports_spec_columns`` (a plpgsql BEFORE row trigger) derives
  error_message, severity, created_at and is_wedding_day;
- ``inline``: the trigger disabled and the same four columns computed by the INSERT … SELECT itself
  (what "set by ingest" would have cost; the alternative this design was measured against).

Prints rows/s of each round and the median ratio trigger / inline (1.0 = free). Only the move is
timed: validation, COPY into the stage and the pattern upsert are the same for both. Drops the
database afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _scratch import OWNER_URL, ROOT, log, pg_connect, scratch_database, seed_organizations  # noqa: E402

MOVE_SQL = (ROOT / "apm" / "sql" / "queries" / "error_reports_move_staged.sql").read_text()
INLINE_SQL = MOVE_SQL.replace(
    "level, environment, release, url, tags, occurred_at, received_at, wedding_context)",
    "level, environment, release, url, tags, occurred_at, received_at, wedding_context,"
    " error_message, severity, created_at, is_wedding_day)",
).replace(
    "s.environment, s.release, s.url, s.tags, s.occurred_at, %(received_at)s, c.wedding_context\n",
    "s.environment, s.release, s.url, s.tags, s.occurred_at, %(received_at)s, c.wedding_context,"
    " s.message, (CASE s.level WHEN 'info' THEN 'low' WHEN 'warning' THEN 'medium' WHEN 'error' THEN 'high'"
    " ELSE CASE WHEN coalesce((c.wedding_context->>'is_wedding_day')::boolean, false) THEN 'wedding_emergency'"
    " ELSE 'critical' END END)::error_severity_type, %(received_at)s,"
    " coalesce((c.wedding_context->>'is_wedding_day')::boolean, false)\n",
)

STAGE_SQL = """
CREATE TEMP TABLE IF NOT EXISTS apm_errors_stage (
 organization_id uuid NOT NULL, service text NOT NULL, error_type text NOT NULL,
 message text NOT NULL, stack_trace text NOT NULL, level text NOT NULL, environment text NOT NULL,
 release text NOT NULL, url text NOT NULL, tags jsonb NOT NULL, occurred_at timestamptz NOT NULL,
 normalized_message text NOT NULL, top_frame text NOT NULL, fingerprint text NOT NULL) ON COMMIT DELETE ROWS
"""

FILL_SQL = """
INSERT INTO apm_errors_stage
SELECT o.id, 'svc-' || (i %% 7), 'Err' || (i %% 200), 'failure number ' || i, 'File "a.py", line 1, in f',
       (ARRAY['info', 'warning', 'error', 'critical'])[1 + i %% 4], 'production', '1.0', '/x', '{"k": "v"}',
       now() - (i %% 3600) * interval '1 second', 'failure number <num>', 'a.py:f', 'fp-' || o.id || '-' || (i %% 200)
FROM generate_series(1, %(rows)s) i
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM organizations) o ON o.n = i %% 50
"""

PATTERNS_SQL = """
INSERT INTO error_patterns (organization_id, fingerprint, service, error_type, normalized_message, top_frame, level,
                            status, first_seen, last_seen, occurrence_count, regression_count)
SELECT DISTINCT ON (organization_id, fingerprint) organization_id, fingerprint, service, error_type,
       normalized_message, top_frame, 'error', 'unresolved', now(), now(), 0, 0
FROM apm_errors_stage
ON CONFLICT (organization_id, fingerprint) DO NOTHING
"""


def one_round(conn, *, rows: int, variant: str) -> float:
    """Stage ``rows`` reports and time the move (s) with ``variant`` (``trigger`` or ``inline``)."""
    with conn.transaction():
        conn.execute("SELECT set_config('app.role', 'service', true)")
        # Foreign keys checked at once in both variants (deferred ones would block re-enabling the trigger).
        conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        conn.execute(STAGE_SQL)
        conn.execute(FILL_SQL, {"rows": rows})
        conn.execute(PATTERNS_SQL)
        if variant == "inline":
            conn.execute("ALTER TABLE error_reports DISABLE TRIGGER error_reports_spec_columns")
        started = time.perf_counter()
        moved = conn.execute(INLINE_SQL if variant == "inline" else MOVE_SQL, {"received_at": "now"}).rowcount
        elapsed = time.perf_counter() - started
        if variant == "inline":
            conn.execute("ALTER TABLE error_reports ENABLE TRIGGER error_reports_spec_columns")
    if moved != rows:
        raise SystemExit(f"{variant}: moved {moved} of {rows} rows")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="reports per round (default 20,000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each variant (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.rounds < 1:
        parser.error("--rows and --rounds must be positive")
    with scratch_database("bench_errors", keep=args.keep) as db_name:
        with pg_connect(OWNER_URL, db_name) as conn:
            with conn.transaction():
                conn.execute("SELECT set_config('app.role', 'service', true)")
                seed_organizations(conn.cursor(), orgs=50, at="now")
            ratios = []
            for n in range(1, args.rounds + 1):
                times = {}
                for variant in ("trigger", "inline") if n % 2 else ("inline", "trigger"):
                    times[variant] = one_round(conn, rows=args.rows, variant=variant)
                ratio = times["inline"] / times["trigger"]
                ratios.append(ratio)
                log(
                    f"round {n}: trigger {args.rows / times['trigger']:,.0f} rows/s, "
                    f"inline {args.rows / times['inline']:,.0f} rows/s, trigger/inline throughput {ratio:.2f}"
                )
            print(
                f"\nmedian throughput ratio trigger / inline over {args.rounds} rounds of {args.rows:,} reports: "
                f"{statistics.median(ratios):.2f} (1.00 = the trigger costs nothing)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
