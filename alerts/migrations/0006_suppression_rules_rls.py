from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("alerts", "0005_suppression_rules")]
    operations = [
        run_sql_file(
            __file__,
            "policies/suppression_rules.tenant_rows.v1.sql",
            reverse="DROP POLICY IF EXISTS tenant_rows ON suppression_rules;"
            " ALTER TABLE suppression_rules NO FORCE ROW LEVEL SECURITY;"
            " ALTER TABLE suppression_rules DISABLE ROW LEVEL SECURITY;",
        )
    ]
