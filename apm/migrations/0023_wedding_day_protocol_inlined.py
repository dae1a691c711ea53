"""``wedding_day_protocol`` version 2 (``wedsync_ops/tenancy/sql/functions/wedding_day_protocol.v2.sql``):
the same answers, as a function PostgreSQL inlines into the calling query.

Its result becomes a set (``RETURNS TABLE … ROWS 1``), which ``CREATE OR REPLACE`` cannot change, so the
function is dropped and made again. The one object that depends on its row type is apm's view
``saturday_monitoring``, which is why the swap is this app's migration: drop the view, replace the
function, make the view again from its newest file (``apm/sql/views/saturday_monitoring.v2.sql``), in
one transaction. Unapplying puts version 1 back the same way.
"""

from pathlib import Path

from django.db import migrations

from wedsync_ops.db import sql_text

_TENANCY_SQL = Path(__file__).resolve().parent.parent.parent / "wedsync_ops" / "tenancy" / "sql" / "functions"
_DROP = "DROP VIEW saturday_monitoring;\nDROP FUNCTION wedding_day_protocol(uuid, timestamptz);\n"
_VIEW = sql_text(__file__, "views/saturday_monitoring.v2.sql")


def _function(version: int) -> str:
    return (_TENANCY_SQL / f"wedding_day_protocol.v{version}.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [("apm", "0022_error_correlations"), ("tenancy", "0008_rls_policies_once_per_statement")]
    operations = [
        migrations.RunSQL(
            _DROP + _function(2) + "\n" + _VIEW,
            reverse_sql=_DROP + _function(1) + "\n" + _VIEW,
        )
    ]
