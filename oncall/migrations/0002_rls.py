from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("oncall", "0001_initial")]
    operations = [run_sql_file(__file__, "policies/oncall_schedules.tenant_rows.v1.sql", "policies/oncall_rotations.tenant_rows.v1.sql", "policies/oncall_rotation_participants.tenant_rows.v1.sql", "policies/oncall_overrides.tenant_rows.v1.sql", "policies/oncall_people.tenant_rows.v1.sql", "policies/oncall_contact_methods.tenant_rows.v1.sql", "policies/oncall_notification_rules.tenant_rows.v1.sql", "policies/oncall_acknowledge_tokens.tenant_rows.v1.sql", "policies/oncall_schedule_wedding_day_scope.staff_rows.v1.sql")]
