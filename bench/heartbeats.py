"""Benchmark the heartbeat tick: set-based ``heartbeat_checks_evaluate(at)`` beside a naive per-check loop.

Usage::

    .venv/bin/python bench/heartbeats.py                 # 10,000 checks in 500 organizations
    .venv/bin/python bench/heartbeats.py --checks 50000 --orgs 2000 --repeat 5 [--keep]

What it does, in a scratch database ``bench_heartbeats_<pid>`` (``bench/_scratch.py``:
created, migrated and dropped):

1. Seeds ``--orgs`` organizations in six time zones (a tenth with a wedding
   today, so their wedding-day grace applies) and ``--checks`` checks: two
   thirds periodic, a third cron; at the tick 90% are up and not due, 5%
   turn late, 1% are past their grace (down), 1% have a run started long
   ago (down by run timeout), the rest new or paused.
2. As the application role in a service context (row-level security on),
   times, each in a transaction rolled back so every run starts from the
   same state, ``--repeat`` times after a warm-up:
   - the naive loop: every check that can change read as a model, its
     organization's ``wedding_day_protocol(org, at)`` asked per check, and
     each changed check saved with its flip (a query or three per check,
     what a per-check evaluation would do);
   - ``heartbeat_checks_evaluate(at)``: one statement for all checks;
   and checks that both change the same checks to the same states.
3. Times one full ``checks_evaluate`` (the beat task: the function, then
   ``alert_fire`` for each check gone down) and a steady-state tick (nothing
   changes), and prints checks/s, the ratio naive / set-based, and whether a
   tick fits the beat period (``HEARTBEAT_EVALUATE_SECONDS``, 30 s).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _scratch import APP_URL, OWNER_URL, log, scratch_database, seed_organizations, with_db  # noqa: E402

TICK_PERIOD_S = 30.0
AT = dt.datetime(2026, 6, 17, 10, 0, 30, tzinfo=dt.UTC)  # a Wednesday: wedding days come from weddings
TIMEZONES = ["Europe/London", "Australia/Sydney", "America/New_York", "Asia/Tokyo", "Europe/Berlin", "UTC"]


def seed(cur, *, orgs: int, checks: int, at: dt.datetime) -> None:
    """Organizations, weddings and checks with bulk INSERT … SELECT (in a service context: RLS is forced)."""
    seed_organizations(cur, orgs=orgs, at=at, timezones=TIMEZONES)
    # k mod 100 decides the state at the tick: 0-89 up and not due, 90-94 due within the grace (late),
    # 95 due past the grace (down), 96 a run started two hours ago (down), 97-98 new, 99 paused.
    cur.execute(
        """
        WITH o AS (SELECT id, row_number() OVER (ORDER BY slug) - 1 AS n FROM organizations)
        INSERT INTO heartbeat_checks
            (id, organization_id, ping_uuid, name, description, kind, period_s, cron, timezone, grace_s,
             wedding_day_grace_s, severity, priority, status, status_changed_at, next_expected_at, last_ping_at,
             last_start_at, n_pings, created_at, updated_at)
        SELECT gen_random_uuid(), o.id, gen_random_uuid(), 'check ' || k, '',
               CASE WHEN k %% 3 = 0 THEN 'cron' ELSE 'period' END, 3600,
               CASE WHEN k %% 3 = 0 THEN '0 * * * *' ELSE '' END, 'UTC', 1800, NULL,
               'warning', 'medium',
               CASE WHEN k %% 100 BETWEEN 97 AND 98 THEN 'new' WHEN k %% 100 = 99 THEN 'paused' ELSE 'up' END,
               %(at)s::timestamptz - interval '1 day',
               CASE WHEN k %% 100 < 90 THEN %(at)s::timestamptz + make_interval(mins => 1 + k %% 50)
                    WHEN k %% 100 < 95 THEN %(at)s::timestamptz - make_interval(mins => 1 + k %% 10)
                    WHEN k %% 100 = 95 THEN %(at)s::timestamptz - make_interval(mins => 40 + k %% 60)
                    WHEN k %% 100 = 96 THEN %(at)s::timestamptz + interval '20 minutes' END,
               CASE WHEN k %% 100 < 97 THEN %(at)s::timestamptz - interval '50 minutes' END,
               CASE WHEN k %% 100 = 96 THEN %(at)s::timestamptz - interval '2 hours' END,
               1, now(), now()
          FROM generate_series(0, %(checks)s - 1) k
          JOIN o ON o.n = abs(hashtext(k::text)) %% %(orgs)s  -- spread: most organizations have a changing check
        """,
        {"at": at, "checks": checks, "orgs": orgs},
    )
    cur.execute("ANALYZE")


def naive_tick(at: dt.datetime) -> dict:
    """The baseline: a query (or three) per check, deciding each in Python."""
    from django.db import connection

    from heartbeats.models import HeartbeatCheck, HeartbeatFlip

    changed = {}
    for check in HeartbeatCheck.objects.filter(status__in=["new", "up", "late"]).order_by("pk"):
        with connection.cursor() as cur:
            cur.execute("SELECT active FROM wedding_day_protocol(%s, %s)", [check.organization_id, at])
            row = cur.fetchone()
        grace = check.effective_wedding_day_grace_s if row and row[0] else check.grace_s
        starts = [t for t in (check.next_expected_at, check.last_start_at) if t is not None]
        target = check.status
        if starts and at >= min(starts) + dt.timedelta(seconds=grace):
            target = "down"
        elif check.status != "new" and check.next_expected_at is not None and check.next_expected_at <= at:
            target = "late"
        if target != check.status:
            HeartbeatFlip.objects.create(
                heartbeat_check=check,
                organization_id=check.organization_id,
                flipped_at=at,
                old_status=check.status,
                new_status=target,
                reason="naive",
            )
            HeartbeatCheck.objects.filter(pk=check.pk).update(status=target, status_changed_at=at)
            changed[check.pk] = target
    return changed


def set_based_tick(at: dt.datetime) -> dict:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT check_id, new_status FROM heartbeat_checks_evaluate(%s)", [at])
        return dict(cur.fetchall())


def rolled_back(fn, at: dt.datetime):
    """Run ``fn(at)`` in a service context inside a transaction that is rolled back; returns (seconds, result)."""
    from django.db import transaction

    from wedsync_ops.tenancy.context import service_context

    with transaction.atomic():
        with service_context():
            started = time.perf_counter()
            result = fn(at)
            elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed, result


def timed(fn, at: dt.datetime, repeat: int):
    rolled_back(fn, at)  # warm-up
    runs = [rolled_back(fn, at) for _ in range(repeat)]
    return statistics.median(s for s, _r in runs), runs[-1][1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=10_000)
    parser.add_argument("--orgs", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    if args.checks < 1 or args.orgs < 1 or args.repeat < 1:
        parser.error("--checks, --orgs and --repeat must be positive")
    with scratch_database("bench_heartbeats", keep=args.keep) as name:
        os.environ["DATABASE_URL"] = with_db(APP_URL, name)
        os.environ["DATABASE_OWNER_URL"] = with_db(OWNER_URL, name)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wedsync_ops.settings")
        import django

        django.setup()
        from django.db import connection, connections

        from wedsync_ops.tenancy.context import service_context

        try:
            log(f"seeding {args.orgs} organizations and {args.checks} checks")
            with service_context(), connection.cursor() as cur:
                seed(cur, orgs=args.orgs, checks=args.checks, at=AT)
            return run(args)
        finally:
            connections.close_all()


def run(args) -> int:
    from django.db import connection

    from heartbeats.services import checks_evaluate
    from wedsync_ops.tenancy.context import service_context

    with connection.cursor() as cur:
        cur.execute("SELECT current_user, (SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user)")
        user, bypass = cur.fetchone()
    log(f"ticking as {user} (bypass RLS: {bypass}), {args.repeat} runs each, every run rolled back")
    naive_s, naive = timed(naive_tick, AT, args.repeat)
    log(f"naive per-check loop: {naive_s * 1000:.0f} ms, {len(naive)} checks changed")
    set_s, set_based = timed(set_based_tick, AT, args.repeat)
    log(f"heartbeat_checks_evaluate: {set_s * 1000:.0f} ms, {len(set_based)} checks changed")
    same = naive == {k: v for k, v in set_based.items()}

    started = time.perf_counter()
    with service_context():
        first = checks_evaluate(now=AT)
    first_s = time.perf_counter() - started
    log(f"checks_evaluate (fires the down alerts): {first_s:.2f} s {first}")
    steady_s, steady = timed(lambda at: checks_evaluate(now=at), AT + dt.timedelta(seconds=1), args.repeat)
    log(f"checks_evaluate (steady state: nothing changes): {steady_s * 1000:.0f} ms {steady}")

    counts = {s: list(set_based.values()).count(s) for s in ("late", "down")}
    print()
    print(
        f"checks: {args.checks} in {args.orgs} organizations; changed at the tick: {len(set_based)} "
        f"({counts['late']} late, {counts['down']} down)"
    )
    print(f"naive per-check loop:        {naive_s * 1000:9.0f} ms  {args.checks / naive_s:12,.0f} checks/s")
    print(f"heartbeat_checks_evaluate:   {set_s * 1000:9.0f} ms  {args.checks / set_s:12,.0f} checks/s")
    print(f"ratio naive / set-based: {naive_s / set_s:.1f}x")
    per_alert = (first_s - set_s) / first["alerts_fired"] * 1000 if first["alerts_fired"] else 0.0
    print(
        f"full tick with {first['alerts_fired']} alerts fired: {first_s:.2f} s "
        f"(about {per_alert:.0f} ms per alert_fire: routing, silences, flapping, outbox); "
        f"steady-state tick: {steady_s * 1000:.0f} ms"
    )
    fits = max(first_s, steady_s) < TICK_PERIOD_S
    print(f"fits the beat period ({TICK_PERIOD_S:.0f} s): {'yes' if fits else 'NO'}")
    print(f"naive loop and set-based tick change the same checks the same way: {'yes' if same else 'NO'}")
    return 0 if same and fits else 1


if __name__ == "__main__":
    sys.exit(main())
