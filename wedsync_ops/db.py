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


def copy_through_stage(*, stage_create_sql: str, stage_table: str, columns: str, types: list[str], rows,
                       move_sql: str, using: str = "default") -> int:
    """Write ``rows`` into a table under row-level security with one binary COPY; returns rows moved.

    PostgreSQL refuses ``COPY … FROM`` into a table with row-level security ("COPY FROM not supported
    with row-level security"), so the rows are COPYed into a session-local temporary staging table
    (``stage_create_sql``: an idempotent ``CREATE TEMP TABLE IF NOT EXISTS stage_table … ON COMMIT
    DELETE ROWS``, run in every transaction, since behind a transaction-pooling PgBouncer the next
    transaction may be on another server session) and moved by ``move_sql`` (one ``INSERT … SELECT``
    from a ``DELETE … RETURNING`` of the stage), which RLS checks row by row: a vendor context cannot
    write another organization's rows. The approach of apm's metric ingest
    (``apm.services.metrics_copy_tuples``).

    ``columns``: the stage's column list as SQL text; ``types``: their PostgreSQL type names, for
    COPY's binary format (nothing is parsed as text); ``rows``: an iterable of tuples in that order.
    Must run inside a transaction whose tenant context may insert the rows. Raises
    ``django.db.DatabaseError`` (an RLS violation, a constraint) and then writes nothing.
    """
    from django.db import connections

    with connections[using].cursor() as cur:
        cur.execute(stage_create_sql)
        with cur.cursor.copy(f"COPY {stage_table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            write = copy.write_row
            for row in rows:
                write(row)
        cur.execute(move_sql)
        return cur.rowcount
