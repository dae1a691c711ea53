"""Benchmark threshold-rule evaluation: ``alert_rule_evaluation(at)`` beside one hand-written SQL query.

Usage::

    .venv/bin/python bench/evaluate.py            # 200 organizations, 2,000 rules (about a minute)
    .venv/bin/python bench/evaluate.py --full     # the issue's size: 1,000 organizations, 10,000 rules
    .venv/bin/python bench/evaluate.py --orgs 500 --rules-per-org 10 --repeat 5 [--keep]
    .venv/bin/python bench/evaluate.py --storm 10000   # an alert storm: 10,000 new alerts across 1,000 orgs

What it does, in a scratch database ``bench_evaluate_<pid>`` that it creates
(as the owner role of ``DATABASE_OWNER_URL``, which needs CREATEDB),
migrates and drops at the end (``--keep`` leaves it):

1. Seeds ``--orgs`` organizations in six time zones (a tenth with a wedding
   on the evaluation day), ``--rules-per-org`` threshold rules each (mixed
   aggregations avg/p95/p99/max/min/count/sum, above/below, windows of 5, 10
   and 15 minutes, a third with ``service = ''``, a fifth with a
   wedding-day threshold, a fifth with the wedding-season adjustment), and
   30 minutes of 1-minute aggregations for 5 services x 4 metrics per
   organization (plus one raw point per series, for the unit lookup).
2. As the application role in a service context (row-level security on),
   times ``alert_rule_evaluation(at)`` (what the beat task runs) and one
   hand-written SQL query doing the same evaluation, ``--repeat`` times each
   after one warm-up, checks that both return the same rows, and times one
   full ``rules_evaluate`` (fires the breaching alerts) and a second one
   (steady state: alerts already open).
3. Prints rules/s for each (rules / median seconds), their ratio
   (function / hand-written: > 1 means the function is faster) and
   whether the full evaluation fits one beat tick (60 s).

Rules are seeded with ``for_seconds = 0``: this measures evaluation and
firing, not the for-duration (which only delays the firing run by a tick).

``--storm N``: an alert storm instead. ``N`` breaching rules across
``--orgs`` organizations (default 1,000; every rule's threshold is 0, so each
fires once; a tenth are critical and open incidents, some of them wedding-day
p0s), every organization with a webhook channel plus two platform channels and
a routing rule. Times the one ``rules_evaluate`` that fires them all (alerts
written, routed, outbox rows, incidents and their notifications) beside the
same alerts fired one at a time through ``alert_fire`` (the baseline: how
firing worked before), prints alerts/s, the ratio and whether the storm fits
one 60 s tick.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from dataclasses import astuple
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _scratch import pg_connect, seed_organizations, with_db  # noqa: E402

BEAT_TICK_S = 60.0
APP_URL = "postgres://wedsync_app:wedsync_app@127.0.0.1:5432/wedsync"
OWNER_URL = "postgres://wedsync_owner:wedsync_owner@127.0.0.1:5432/wedsync"
# Wednesday 2026-06-17 10:00:30 UTC: in wedding season; Saturday nowhere, so wedding days come from weddings.
AT = dt.datetime(2026, 6, 17, 10, 0, 30, tzinfo=dt.UTC)
TIMEZONES = ["Europe/London", "Australia/Sydney", "America/New_York", "Asia/Tokyo", "Europe/Berlin", "UTC"]

# The same evaluation as alert_rule_evaluation(at), written by hand as one query (the baseline).
HAND_WRITTEN = """
SELECT r.id AS rule_id, o.id AS organization_id, o.slug::text AS organization_slug,
       w.service, w.metric_name, r.aggregation::text, r.comparison::text, w.value, th.threshold,
       th.reason AS threshold_reason,
       coalesce(CASE r.comparison WHEN 'below' THEN w.value < th.threshold ELSE w.value > th.threshold END, false)
         AND w.samples >= r.min_samples,
       w.buckets, e.window_end - make_interval(mins => r.window_minutes) AS window_start, e.window_end,
       coalesce(CASE WHEN r.aggregation <> 'count'
         AND coalesce(CASE r.comparison WHEN 'below' THEN w.value < th.threshold ELSE w.value > th.threshold END, false)
         THEN (SELECT m.unit::text FROM apm_metrics m
                WHERE m.organization_id = o.id AND m.service = w.service AND m.metric_name = w.metric_name
                  AND m.recorded_at >= e.window_end - make_interval(mins => r.window_minutes)
                  AND m.recorded_at < e.window_end
                ORDER BY m.recorded_at DESC LIMIT 1) END, '') AS unit
  FROM (SELECT date_bin('1 minute', %(at)s::timestamptz, timestamptz '1970-01-01') AS window_end) e
  CROSS JOIN alert_configurations r
  JOIN organizations o ON o.id = r.organization_id
  CROSS JOIN LATERAL (SELECT (%(at)s::timestamptz AT TIME ZONE o.timezone)::date AS d) ld
  CROSS JOIN LATERAL (
    SELECT EXISTS (SELECT 1 FROM weddings wd WHERE wd.organization_id = o.id AND wd.wedding_date = ld.d
                     AND wd.status <> 'cancelled') AS wedding,
           extract(isodow FROM ld.d) = 6 AS saturday
  ) p
  CROSS JOIN LATERAL (
    SELECT CASE WHEN (p.wedding OR p.saturday) AND r.wedding_day_threshold IS NOT NULL THEN r.wedding_day_threshold
                WHEN (p.wedding OR p.saturday) AND r.wedding_season_adjustment
                     AND extract(month FROM ld.d) BETWEEN 5 AND 10
                  THEN r.threshold * CASE r.comparison WHEN 'below' THEN 1.2 ELSE 0.8 END
                ELSE r.threshold END AS threshold,
           CASE WHEN (p.wedding OR p.saturday) AND r.wedding_day_threshold IS NOT NULL THEN
                  CASE WHEN p.wedding THEN 'wedding day: a wedding on ' || ld.d::text || ' (local)'
                       ELSE 'wedding day: local Saturday ' || ld.d::text END
                WHEN (p.wedding OR p.saturday) AND r.wedding_season_adjustment
                     AND extract(month FROM ld.d) BETWEEN 5 AND 10
                  THEN 'wedding season: 20%% stricter'
                ELSE 'standard threshold' END AS reason
  ) th
  JOIN LATERAL (
    SELECT a.service::text AS service, a.metric_name::text AS metric_name, count(*) AS buckets,
           sum(a.count) AS samples,
           CASE r.aggregation
             WHEN 'avg' THEN sum(a.sum) / NULLIF(sum(a.count), 0) WHEN 'count' THEN sum(a.count)::float8
             WHEN 'sum' THEN sum(a.sum) WHEN 'min' THEN min(a.min) WHEN 'max' THEN max(a.max)
             WHEN 'p50' THEN max(a.p50) WHEN 'p95' THEN max(a.p95) WHEN 'p99' THEN max(a.p99) END AS value
      FROM apm_metric_aggregations a
     WHERE a.organization_id = o.id AND a.metric_name = r.metric_name
       AND (r.service = '' OR a.service = r.service) AND a.bucket_seconds = 60
       AND a.bucket_start >= e.window_end - make_interval(mins => r.window_minutes) AND a.bucket_start < e.window_end
     GROUP BY a.service, a.metric_name
  ) w ON true
 WHERE r.enabled AND r.alert_type = 'threshold'
"""


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def seed(cur, *, orgs: int, rules_per_org: int, at: dt.datetime) -> None:
    """Fill the scratch database with bulk INSERT … SELECT (owner role, in a service context: RLS is forced)."""
    seed_organizations(cur, orgs=orgs, at=at, timezones=TIMEZONES)
    cur.execute(
        """
        INSERT INTO alert_configurations
            (id, organization_id, name, description, alert_type, service, metric_name, aggregation, comparison,
             threshold, wedding_day_threshold, wedding_season_adjustment, window_minutes, severity, priority,
             labels, runbook_url, enabled, created_at, updated_at, for_seconds)
        SELECT gen_random_uuid(), o.id, 'Rule ' || k, '', 'threshold',
               CASE WHEN k %% 3 = 0 THEN '' ELSE 'svc-' || (k %% 5) END, 'metric.' || (k %% 4),
               (ARRAY['avg','p95','p99','max','min','count','sum'])[1 + k %% 7],
               CASE WHEN k %% 7 = 4 THEN 'below' ELSE 'above' END,
               (ARRAY[300, 485, 635, 755, 10.3, 590, 150000])[1 + k %% 7],
               CASE WHEN k %% 5 = 0 THEN 350 END, k %% 5 = 1, 5 + 5 * (k %% 3), 'warning', 'medium',
               '{}'::jsonb, '', true, now(), now(), 0
          FROM organizations o CROSS JOIN generate_series(1, %(rpo)s) k
        """,
        {"rpo": rules_per_org},
    )
    window_end = at.replace(second=0, microsecond=0)
    cur.execute(
        """
        INSERT INTO apm_metric_aggregations
            (organization_id, service, metric_name, bucket_seconds, bucket_start, count, sum, min, max, avg,
             p50, p95, p99, updated_at)
        SELECT o.id, 'svc-' || s, 'metric.' || m, 60, %(end)s::timestamptz - make_interval(mins => b),
               c, c * v, v * 0.2, v * 2.5, v, v * 0.9, v * 1.6, v * 2.1, now()
          FROM organizations o
         CROSS JOIN generate_series(0, 4) s CROSS JOIN generate_series(0, 3) m CROSS JOIN generate_series(1, 30) b
         CROSS JOIN LATERAL (SELECT 50 + (hashtext(o.slug || s || m || b) & 255)::float8 AS v,
                                    10 + (hashtext(o.slug || b) & 31) AS c) x
        """,
        {"end": window_end},
    )
    cur.execute("SELECT apm_ensure_metric_partitions(%s::date, %s::date)", [at.date(), at.date()])
    cur.execute(
        """
        INSERT INTO apm_metrics (organization_id, service, metric_name, value, unit, tags, recorded_at, ingested_at)
        SELECT o.id, 'svc-' || s, 'metric.' || m, 100, 'ms', '{}'::jsonb, %(t)s, %(t)s
          FROM organizations o CROSS JOIN generate_series(0, 4) s CROSS JOIN generate_series(0, 3) m
        """,
        {"t": window_end - dt.timedelta(seconds=30)},
    )
    cur.execute("ANALYZE")


def seed_storm(cur, *, orgs: int, alerts: int, at: dt.datetime) -> None:
    """``alerts`` rules that all breach, spread over ``orgs`` organizations, with channels and routing."""
    from wedsync_ops.crypto import encrypt_json

    seed_organizations(cur, orgs=orgs, at=at, timezones=TIMEZONES)
    cur.execute(
        """
        INSERT INTO alert_configurations
            (id, organization_id, name, description, alert_type, service, metric_name, aggregation, comparison,
             threshold, window_minutes, severity, priority, labels, runbook_url, enabled, created_at, updated_at,
             for_seconds, min_samples, wedding_season_adjustment)
        SELECT gen_random_uuid(), o.id, 'Storm ' || k, '', 'threshold', 'svc-' || (k %% 5), 'metric.0', 'p95',
               'above', 0, 5, CASE WHEN k %% 10 = 0 THEN 'critical' ELSE 'warning' END::alert_severity,
               'high', jsonb_build_object('team', 'team-' || (k %% 3)), '', true, now(), now(), 0, 1, false
          FROM (SELECT o.*, row_number() OVER (ORDER BY o.slug) AS n FROM organizations o) o
         CROSS JOIN LATERAL generate_series(1, %(per)s + CASE WHEN o.n <= %(extra)s THEN 1 ELSE 0 END) k
        """,
        {"per": alerts // orgs, "extra": alerts % orgs},
    )
    window_end = at.replace(second=0, microsecond=0)
    cur.execute(
        """
        INSERT INTO apm_metric_aggregations
            (organization_id, service, metric_name, bucket_seconds, bucket_start, count, sum, min, max, avg,
             p50, p95, p99, updated_at)
        SELECT o.id, 'svc-' || s, 'metric.0', 60, %(end)s::timestamptz - make_interval(mins => b),
               20, 2000, 50, 900, 100, 90, 800, 880, now()
          FROM organizations o CROSS JOIN generate_series(0, 4) s CROSS JOIN generate_series(1, 5) b
        """,
        {"end": window_end},
    )
    cur.execute(
        """
        INSERT INTO notification_channels (id, organization_id, kind, name, config_encrypted, enabled,
                                           disabled_reason, wedding_day_emergency, created_at)
        SELECT gen_random_uuid(), o.id, 'webhook'::notification_channel, o.slug || ' hook',
               %(config)s, true, '', false, now() FROM organizations o
        UNION ALL
        SELECT gen_random_uuid(), NULL, 'webhook'::notification_channel, name, %(config)s,
               true, '', emergency, now()
          FROM (VALUES ('ops pager', false), ('wedding emergency', true)) v(name, emergency)
        """,
        # Channel configurations are encrypted at rest (wedsync_ops/crypto.py): one token serves every row.
        {"config": encrypt_json({"url": "http://127.0.0.1:9/"})},
    )
    cur.execute(
        """
        WITH r AS (
            INSERT INTO apm_notification_rules (id, organization_id, name, position, matchers, continue_matching,
                                                enabled, created_at)
            VALUES (gen_random_uuid(), NULL, 'critical to the pager', 10,
                    '[{"name": "severity", "op": "=", "value": "critical"}]', true, true, now())
            RETURNING id)
        INSERT INTO apm_notification_rule_channels (organization_id, rule_id, channel_id)
        SELECT NULL, r.id, c.id FROM r, notification_channels c WHERE c.name = 'ops pager'
        """
    )
    cur.execute("ANALYZE")


def run_storm(args) -> int:
    """Time the storm: one set-based ``rules_evaluate`` beside firing the same alerts one at a time."""
    from django.db import connection

    from alerts.evaluation import rule_alert_labels, rule_evaluation_rows_all, rules_evaluate
    from alerts.fingerprint import labels_fingerprint
    from alerts.models import AlertHistory, AlertRule
    from alerts.services import alert_fire
    from incidents.models import Incident
    from notifications.models import NotificationDelivery
    from wedsync_ops.tenancy.context import service_context

    def counts():
        with service_context():
            return (AlertHistory.objects.count(), NotificationDelivery.objects.count(), Incident.objects.count())

    def wipe():
        with service_context(), connection.cursor() as cur:
            cur.execute(
                "DELETE FROM notification_delivery_attempts; DELETE FROM notification_deliveries;"
                " DELETE FROM incident_updates; UPDATE alert_history SET incident_id = NULL;"
                " DELETE FROM incidents; DELETE FROM alert_history; DELETE FROM alert_rule_pending"
            )

    progress(f"storm: {args.storm} breaching rules across {args.orgs} organizations; set-based rules_evaluate")
    profiler = None
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    with service_context():
        result = rules_evaluate(now=AT)
    storm_s = time.perf_counter() - started
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    alerts, deliveries, incidents = counts()
    progress(
        f"rules_evaluate: {storm_s:.2f} s {result}; {alerts} alerts, {deliveries} outbox rows, {incidents} incidents"
    )
    wipe()
    sample = min(args.storm, 1000)
    progress(f"baseline: the same firing one alert at a time through alert_fire ({sample} of them, extrapolated)")
    with service_context():
        rows = [r for r in rule_evaluation_rows_all(now=AT) if r.breaching][:sample]
        rules = AlertRule.objects.in_bulk({r.rule_id for r in rows})
    started = time.perf_counter()
    for i, row in enumerate(rows, 1):
        rule = rules[row.rule_id]
        labels = rule_alert_labels(rule=rule, organization_slug=row.organization_slug, service=row.service)
        with service_context():
            alert_fire(
                organization_id=row.organization_id,
                fingerprint=labels_fingerprint(labels),
                source="rule",
                title=rule.name,
                labels=labels,
                annotations={},
                severity=rule.severity,
                priority=rule.priority,
                starts_at=AT,
                now=AT,
                rule=rule,
                value=row.value,
                threshold=row.threshold,
                group_key=f'{{}}:{{alertname="{rule.name}",organization="{row.organization_slug}"}}',
            )
        if i % 250 == 0:
            progress(f"  {i}/{len(rows)} fired one at a time")
    one_s = (time.perf_counter() - started) / max(len(rows), 1)
    baseline_s = one_s * result["fired"]
    print()
    print(
        f"storm: {result['fired']} new alerts across {args.orgs} organizations, {deliveries} outbox rows, "
        f"{incidents} incidents"
    )
    print(f"set-based rules_evaluate:     {storm_s:8.2f} s  {result['fired'] / storm_s:10,.0f} alerts/s")
    print(
        f"one at a time (alert_fire):   {baseline_s:8.2f} s  {1 / one_s:10,.0f} alerts/s "
        f"({one_s * 1000:.1f} ms per alert over {len(rows)})"
    )
    print(f"ratio one-at-a-time / set-based: {baseline_s / storm_s:.1f}x")
    fits = storm_s < BEAT_TICK_S
    print(f"fits one beat tick ({BEAT_TICK_S:.0f} s): {'yes' if fits else 'NO'}")
    return 0 if fits and result["fired"] == args.storm else 1


def timed(fn, repeat: int) -> tuple[float, object]:
    fn()  # warm-up
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the issue's size: 1,000 organizations x 10 rules")
    parser.add_argument("--orgs", type=int, default=None, help="organizations (default 200; 1,000 with --storm)")
    parser.add_argument("--rules-per-org", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--storm", type=int, default=0, metavar="N", help="fire N new alerts in one evaluation")
    args = parser.parse_args(argv)
    if args.orgs is None:
        args.orgs = 1000 if (args.full or args.storm) else 200
    elif args.full:
        args.orgs = 1000
    if args.orgs < 1 or args.rules_per_org < 1 or args.repeat < 1:
        parser.error("--orgs, --rules-per-org and --repeat must be positive")
    rules = args.orgs * args.rules_per_org

    app_url = os.environ.get("DATABASE_URL", APP_URL)
    owner_url = os.environ.get("DATABASE_OWNER_URL", OWNER_URL)
    name = f"bench_evaluate_{os.getpid()}"
    progress(f"creating scratch database {name}")
    with pg_connect(owner_url, "postgres") as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        os.environ["DATABASE_URL"] = with_db(app_url, name)
        os.environ["DATABASE_OWNER_URL"] = with_db(owner_url, name)
        os.environ["WEDSYNC_DB_ROLE"] = "owner"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wedsync_ops.settings")
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        progress("migrating (owner role)")
        call_command("migrate", verbosity=0)
        progress(f"seeding {args.orgs} organizations, {rules} rules, {args.orgs * 600} aggregation rows")
        started = time.perf_counter()
        from wedsync_ops.tenancy.context import service_context

        with service_context(), connection.cursor() as cur:
            if args.storm:
                seed_storm(cur, orgs=args.orgs, alerts=args.storm, at=AT)
            else:
                seed(cur, orgs=args.orgs, rules_per_org=args.rules_per_org, at=AT)
        progress(f"seeded in {time.perf_counter() - started:.1f} s")
        connection.close()
        for target in (settings.DATABASES["default"], connection.settings_dict):
            target["USER"] = settings.DATABASE_APP["USER"]
            target["PASSWORD"] = settings.DATABASE_APP.get("PASSWORD", "")
        return run_storm(args) if args.storm else run(args, rules)
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001 - django may not be set up yet
            pass
        if args.keep:
            progress(f"kept {name}")
        else:
            with pg_connect(owner_url, "postgres") as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            progress(f"dropped {name}")


def run(args, rules: int) -> int:
    from django.db import connection

    from alerts.evaluation import rules_evaluate
    from alerts.selectors import rule_evaluation_rows
    from wedsync_ops.tenancy.context import service_context

    def function_rows():
        with service_context():
            return rule_evaluation_rows(now=AT)

    def hand_rows():
        with service_context(), connection.cursor() as cur:
            cur.execute(HAND_WRITTEN, {"at": AT})
            return cur.fetchall()

    with connection.cursor() as cur:
        cur.execute("SELECT current_user")
        progress(f"evaluating as {cur.fetchone()[0]} (row-level security on), {args.repeat} runs each")
    fn_s, fn_rows = timed(function_rows, args.repeat)
    progress(f"alert_rule_evaluation: {fn_s * 1000:.0f} ms, {len(fn_rows)} rows")
    hand_s, hand = timed(hand_rows, args.repeat)
    progress(f"hand-written query:    {hand_s * 1000:.0f} ms, {len(hand)} rows")

    def comparable(row):
        value, threshold = row[7], row[8]
        return (str(row[0]), str(row[1]), row[3], row[4]), (
            round(value, 6) if value is not None else None,
            round(threshold, 6),
            row[9],
            row[10],
            row[11],
            row[14],
        )

    fn_keyed = dict(comparable(astuple(r)) for r in fn_rows)
    hand_keyed = dict(comparable(r) for r in hand)
    same = fn_keyed == hand_keyed
    breaching = sum(1 for r in fn_rows if r.breaching)

    started = time.perf_counter()
    with service_context():
        first = rules_evaluate(now=AT)
    first_s = time.perf_counter() - started
    progress(f"rules_evaluate (first: fires): {first_s:.2f} s {first}")
    started = time.perf_counter()
    with service_context():
        second = rules_evaluate(now=AT)
    second_s = time.perf_counter() - started
    progress(f"rules_evaluate (steady state): {second_s:.2f} s {second}")

    print()
    print(f"rules: {rules} across {args.orgs} organizations; rows: {len(fn_rows)}, breaching: {breaching}")
    print(f"alert_rule_evaluation(at): {fn_s * 1000:8.0f} ms  {rules / fn_s:10,.0f} rules/s")
    print(f"hand-written SQL query:    {hand_s * 1000:8.0f} ms  {rules / hand_s:10,.0f} rules/s")
    print(f"ratio function/hand-written (rules/s): {hand_s / fn_s:.2f}x")
    print(
        f"rules_evaluate, first run (fires {first['fired']} alerts): {first_s:.2f} s; "
        f"steady state: {second_s:.2f} s = {rules / second_s:,.0f} rules/s"
    )
    fits = max(first_s, second_s) < BEAT_TICK_S
    print(f"fits one beat tick ({BEAT_TICK_S:.0f} s): {'yes' if fits else 'NO'}")
    print(f"function and hand-written query agree: {'yes' if same else 'NO'}")
    return 0 if same and fits else 1


if __name__ == "__main__":
    sys.exit(main())
