"""Database helpers shared by the apps: enum columns and raw-SQL migrations."""

from pathlib import Path

from django.db import migrations, models


class EnumField(models.CharField):
    """A column of a PostgreSQL enum type (``enum_type``), seen by Django as text.

    The type must exist before the table (``wedsync_ops/tenancy`` migration
    0001 creates all of DESIGN.md's types). Values are validated against
    ``choices`` in Python and by the type in the database.
    """

    def __init__(self, *args, enum_type: str, **kwargs):
        self.enum_type = enum_type
        kwargs.setdefault("max_length", 32)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["enum_type"] = self.enum_type
        return name, path, args, kwargs

    def db_type(self, connection):
        return self.enum_type

    def rel_db_type(self, connection):
        return self.enum_type


def run_sql_file(app_dir: str, filename: str, reverse: str | None = None) -> migrations.RunSQL:
    """A RunSQL operation that executes ``<app_dir>/sql/<filename>``.

    Raw SQL lives in ``.sql`` files beside the migrations so it can be read
    and diffed as SQL (STYLE.md). ``app_dir`` is the migration module's
    ``__file__``; the sql folder is its app's ``sql/``.
    """
    sql_path = Path(app_dir).resolve().parent.parent / "sql" / filename
    return migrations.RunSQL(sql_path.read_text(), reverse_sql=reverse or migrations.RunSQL.noop)
