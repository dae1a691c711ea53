from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    """Event tables under the same row-level security as their sources (audit/sql/policies/audit_events.v1.sql)."""

    dependencies = [("audit", "0001_initial"), ("pghistory", "0007_auto_20250421_0444")]

    operations = [run_sql_file(__file__, "policies/audit_events.v1.sql")]
