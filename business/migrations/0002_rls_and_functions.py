"""Row-level security on every business table, and the set-based SQL functions (business/sql/)."""

from django.db import migrations

from wedsync_ops.db import run_sql_file

_TABLES = ("business_events", "conversion_funnels", "conversion_funnel_steps", "feature_usage", "revenue_metrics",
           "user_segments", "user_segment_counts", "business_alert_rules")
_FUNCTIONS = {
    "business_revenue_metrics_compute": "date, date",
    "business_feature_usage_compute": "date, date",
    "business_segments_compute": "date, date",
    "business_funnels_compute": "date, date",
    "business_event_impact": "uuid, timestamptz, timestamptz, integer",
    "business_alert_rules_evaluate": "timestamptz",
}


class Migration(migrations.Migration):
    dependencies = [("business", "0001_initial"), ("tenancy", "0002_rls")]
    operations = [
        run_sql_file(__file__, *(f"policies/{t}.tenant_rows.v1.sql" for t in _TABLES), reverse="".join(
            f"DROP POLICY IF EXISTS tenant_rows ON {t}; ALTER TABLE {t} NO FORCE ROW LEVEL SECURITY;"
            f" ALTER TABLE {t} DISABLE ROW LEVEL SECURITY;" for t in _TABLES)),
        *(run_sql_file(__file__, f"functions/{name}.v1.sql", reverse=f"DROP FUNCTION IF EXISTS {name}({args});")
          for name, args in _FUNCTIONS.items()),
    ]
