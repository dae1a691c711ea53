"""idx_apm_aggregations_latency_5m: the 5-minute p95s of latency metrics, read by an index-only scan.

The Saturday dashboard's p95 trend (``wedsync_ops.pages.selectors.p95_trend``) reads the last 6 hours of
5-minute buckets of latency metrics. Through idx_apm_aggregations_time it read every 5-minute row of
those hours and fetched each from the heap (12k rows, half of them other metrics; 11.5k buffer reads,
7.7 ms at 10M points); this partial index holds only the latency rows, with the columns the query and
the RLS policy read (organization_id), so it answers alone (index-only: 47 buffer reads, 1.3 ms).
Its predicate is the query's, word for word: PostgreSQL uses a partial index only when it can prove
the query's WHERE implies it. Built CONCURRENTLY: aggregation keeps writing meanwhile.
"""

from django.db import migrations

LATENCY_NAMES = (
    """metric_name COLLATE "C" ILIKE '%duration%' OR metric_name COLLATE "C" ILIKE '%latency%'"""
    """ OR metric_name COLLATE "C" ILIKE '%\\_ms'"""
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("apm", "0024_fk_indexes_covered")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_apm_aggregations_latency_5m"
            " ON apm_metric_aggregations (bucket_start) INCLUDE (organization_id, p95)"
            f" WHERE bucket_seconds = 300 AND ({LATENCY_NAMES})",
            reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS idx_apm_aggregations_latency_5m",
        )
    ]
