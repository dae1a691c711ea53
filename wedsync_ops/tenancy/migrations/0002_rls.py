from django.db import migrations

from wedsync_ops.db import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0001_initial")]
    operations = [run_sql_file(__file__, "policies/organizations.tenant_rows.v1.sql", "policies/user_profiles.tenant_rows.v1.sql", "policies/user_profiles.own_profile.v1.sql", "policies/weddings.tenant_rows.v1.sql", "policies/api_keys.tenant_rows.v1.sql", "policies/api_keys.token_lookup.v1.sql", "functions/is_wedding_day.v1.sql", "functions/org_local_date.v1.sql", "functions/wedding_day_protocol.v1.sql")]
