"""Database helpers shared by the apps: enum columns, raw-SQL migrations, binary COPY through a stage."""

import datetime as dt
import re
from pathlib import Path

from django.db import migrations, models


class EnumField(models.CharField):
    """A column of a PostgreSQL enum type (``enum_type``), seen by Django as text.

    The type must exist before the table (``wedsync_ops/tenancy/sql/types/``
    holds the SQL contract's enum types). Values are validated against
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


# PostgreSQL's binary timestamptz is an int64 of microseconds since 2000-01-01 00:00 UTC
# (src/include/datatype/timestamp.h: POSTGRES_EPOCH_JDATE; timestamptz_send/timestamptz_recv).
PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
PG_EPOCH_UNIX_US = 946_684_800_000_000  # PG_EPOCH as µs since 1970-01-01 UTC
_ONE_US = dt.timedelta(microseconds=1)
_US_PER_DAY = 86_400_000_000


def pg_timestamp_us(at: dt.datetime) -> int:
    """An aware datetime as PostgreSQL's binary timestamptz: µs since 2000-01-01 00:00 UTC (int, exact)."""
    return (at - PG_EPOCH) // _ONE_US


def pg_timestamp_us_date(us: int) -> dt.date:
    """The UTC date of a ``pg_timestamp_us`` value."""
    return PG_EPOCH.date() + dt.timedelta(days=us // _US_PER_DAY)


_VERSIONED = re.compile(r"^(?P<kind>[a-z_]+)/(?P<name>[^/]+)\.v(?P<version>[0-9]+)\.sql$")


def sql_dir(migration_file: str) -> Path:
    """The ``sql/`` folder of the app whose migration module is ``migration_file`` (its ``__file__``)."""
    return Path(migration_file).resolve().parent.parent / "sql"


def previous_version(path: str) -> str | None:
    """``functions/x.v2.sql`` -> ``functions/x.v1.sql``; None for a version 1 or an unversioned path."""
    match = _VERSIONED.match(path)
    if not match or int(match["version"]) <= 1:
        return None
    return f"{match['kind']}/{match['name']}.v{int(match['version']) - 1}.sql"


def run_sql_file(migration_file: str, *paths: str, reverse: str | None = None) -> migrations.RunSQL:
    """One RunSQL operation that executes ``<app>/sql/<path>`` for each of ``paths``, in order.

    Raw SQL lives in one file per object and version (docs/design/sql-contract.md):
    ``functions/<name>.v<N>.sql``, ``views/…``, ``policies/<table>.<policy>.v<N>.sql``, ``types/``,
    ``tables/``, ``constraints/``, ``grants/``, and one-off ``data/<what>.sql``. A migration names the
    versions it installs, e.g. ``run_sql_file(__file__, "functions/aggregate_metrics.v2.sql")``;
    ``migration_file`` is the migration module's ``__file__``.

    ``reverse``: SQL run when the migration is unapplied. By default each ``functions/`` or ``views/``
    path of version N > 1 is reversed by its version N-1 (``CREATE`` read as ``CREATE OR REPLACE``),
    newest path first; anything else is not undone (no-op). Raises FileNotFoundError for a missing file.
    """
    base = sql_dir(migration_file)
    forward = "\n".join((base / path).read_text() for path in paths)
    if reverse is None:
        undo = []
        for path in reversed(paths):
            previous = previous_version(path)
            if previous and path.startswith(("functions/", "views/")):
                undo.append(_or_replace((base / previous).read_text()))
        reverse = "\n".join(undo) or None
    return migrations.RunSQL(forward, reverse_sql=reverse or migrations.RunSQL.noop)


def fk_index_dropped(alter: migrations.AlterField, *, table: str, column: str, index: str):
    """The state change ``alter`` (a foreign key's ``db_index=False``) that drops only the index ``index``.

    Django's own ``AlterField`` on a foreign key drops its constraint and adds it back, and adding it
    back locks the table and checks every row; a foreign key whose own index another index covers
    (one leading with ``column``: ``monitoring_duplicate_indexes()``) needs only the index dropped.
    Unapplied, the index is made again under the same name (``CREATE INDEX … (column)``, as Django
    makes it). Returns a ``SeparateDatabaseAndState`` operation.
    """
    return migrations.SeparateDatabaseAndState(
        state_operations=[alter],
        database_operations=[
            migrations.RunSQL(
                f'DROP INDEX IF EXISTS "{index}"',
                reverse_sql=f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("{column}")',
            )
        ],
    )


def sql_text(migration_file: str, path: str, *, or_replace: bool = False) -> str:
    """The text of ``<app>/sql/<path>`` (``migration_file``: the migration's ``__file__``), for a ``reverse=``.

    ``or_replace``: its ``CREATE FUNCTION``/``CREATE VIEW`` read as ``CREATE OR REPLACE …``, so that an
    older version can be put back over a newer one. Raises FileNotFoundError for a missing file.
    """
    text = (sql_dir(migration_file) / path).read_text()
    return _or_replace(text) if or_replace else text


def _or_replace(sql: str) -> str:
    """``CREATE FUNCTION``/``CREATE VIEW`` statements of ``sql`` as ``CREATE OR REPLACE …``."""
    return re.sub(r"(?im)^CREATE (FUNCTION|VIEW)\b", r"CREATE OR REPLACE \1", sql)


def copy_through_stage(
    *,
    stage_create_sql: str,
    stage_table: str,
    columns: str,
    types: list[str],
    rows,
    move_sql: str,
    using: str = "default",
) -> int:
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
    A ``timestamptz`` column may be given as ``int8`` with ``pg_timestamp_us`` integers: binary COPY
    reads each field in the binary form of the column's type, and a timestamptz's binary form is
    that int64 of µs (psycopg then dumps a plain int instead of converting a datetime).
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
