"""Tenant and staff-only policies evaluate the context once per statement, not once per row (issue 16 §3):
``functions/apply_tenant_rls.v2.sql``, ``functions/apply_staff_only_rls.v2.sql`` for tables created from now
on, ``data/rls_policies_once_per_statement.sql`` for the policies already made."""

from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0007_merge_0005_ws259_types_0006_audit_triggers")]
    operations = [
        run_sql_file(
            __file__,
            "functions/apply_tenant_rls.v2.sql",
            "functions/apply_staff_only_rls.v2.sql",
            "data/rls_policies_once_per_statement.sql",
        )
    ]
