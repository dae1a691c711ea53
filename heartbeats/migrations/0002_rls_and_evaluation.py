from django.db import migrations

from wedsync_ops.db import run_sql_file

_TABLES = ("heartbeat_checks", "heartbeat_pings", "heartbeat_flips")


class Migration(migrations.Migration):
    dependencies = [("heartbeats", "0001_initial"), ("tenancy", "0002_rls")]
    operations = [
        run_sql_file(
            __file__,
            "policies/heartbeat_checks.tenant_rows.v1.sql", "policies/heartbeat_pings.tenant_rows.v1.sql", "policies/heartbeat_flips.tenant_rows.v1.sql", "policies/job_runs.staff_rows.v1.sql", "functions/heartbeat_checks_evaluate.v1.sql", "functions/heartbeat_job_latest_runs.v1.sql",
            reverse="DROP FUNCTION IF EXISTS heartbeat_checks_evaluate(timestamptz);"
            " DROP FUNCTION IF EXISTS heartbeat_job_latest_runs(text[]);"
            " DROP POLICY IF EXISTS staff_rows ON job_runs; ALTER TABLE job_runs NO FORCE ROW LEVEL SECURITY;"
            " ALTER TABLE job_runs DISABLE ROW LEVEL SECURITY;"
            + "".join(
                f" DROP POLICY IF EXISTS tenant_rows ON {t}; ALTER TABLE {t} NO FORCE ROW LEVEL SECURITY;"
                f" ALTER TABLE {t} DISABLE ROW LEVEL SECURITY;"
                for t in _TABLES
            ),
        )
    ]
