from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("incidents", "0004_escalation_runbooks_analysis")]
    operations = [run_sql_file(__file__, "0004_escalation_runbooks_analysis_rls.sql")]
