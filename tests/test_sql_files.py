"""The newest file of every SQL object is what the migrated database holds (docs/design/sql-contract.md).

Method: each object file (``<app>/sql/{types,functions,views,policies}/<name>.v<N>.sql``) is installed,
as the owner role, into a scratch schema first on the search path (``scratch, public``), inside a
savepoint that is rolled back; a policy file gets an empty copy of its table in the scratch schema
first (``CREATE TABLE scratch.<table> (LIKE public.<table>)``), so that ``apply_tenant_rls('<table>')``
and ``CREATE POLICY … ON <table>`` land there. Then PostgreSQL renders both the scratch object and the
migrated one (``pg_get_functiondef`` with the schema name made the same, ``pg_get_viewdef`` and the
view's options, ``pg_policy`` expressions through ``pg_get_expr``, enum labels), in the same session
and search path, and the two renderings must be equal. Comparing pg's own renderings of both sides
makes the comparison insensitive to white space, comments outside bodies, casts PostgreSQL adds and
the order of a view's joins as written, and sensitive to every change that matters.

Per object, the newest version decides; an older version counts only for a signature no newer
version defines (``create_incident_from_alert(uuid)`` of v1). Every function, view, enum type and
policy of the public schema (extensions' members and apm_metrics' daily partitions aside) must come
from a file.

Trigger functions that django-pgtrigger generates from models' declarations (the audit trail's
``pghistory.track``) are the exception: their source is the model, their migrations are generated
(``makemigrations --check`` catches drift), and pgtrigger's own hash check proves each one installed as
declared (``test_every_declared_trigger_is_installed_as_declared``); the two helpers those libraries
install with their migrations (``_pgtrigger_should_ignore``, ``_pgh_attach_context``) are theirs.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.django_db

KINDS = ("types", "functions", "views", "policies")
_FILE = re.compile(r"^(?P<name>.+)\.v(?P<version>[0-9]+)\.sql$")
ROOT = Path(settings.BASE_DIR)


def object_files() -> dict[tuple[str, str, str], list[tuple[int, Path]]]:
    """``{(app sql dir, kind, name): [(version, path), …] newest first}`` for every object file of the tree."""
    found: dict[tuple[str, str, str], list[tuple[int, Path]]] = defaultdict(list)
    for kind in KINDS:
        for path in ROOT.glob(f"**/sql/{kind}/*.sql"):
            if ".venv" in path.parts:
                continue
            match = _FILE.match(path.name)
            assert match, f"{path.relative_to(ROOT)}: an object file is named <name>.v<N>.sql"
            found[(str(path.parent.parent.relative_to(ROOT)), kind, match["name"])].append(
                (int(match["version"]), path)
            )
    return {key: sorted(versions, reverse=True) for key, versions in found.items()}


FUNCTIONS = """
SELECT p.oid::regprocedure::text AS ident, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       regexp_replace(pg_get_functiondef(p.oid), '^CREATE OR REPLACE FUNCTION [a-z_]+\\.',
                      'CREATE OR REPLACE FUNCTION '),
       CASE WHEN p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0)
            THEN 'PUBLIC may execute' ELSE 'PUBLIC may not execute' END
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = %s AND p.prokind IN ('f', 'p')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                   AND d.deptype = 'e')
"""
VIEWS = """
SELECT c.relname, c.relname, pg_get_viewdef(c.oid) || ' ' || coalesce(c.reloptions::text, ''), ''
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %s AND c.relkind IN ('v', 'm')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                   AND d.deptype = 'e')
"""
POLICIES = """
SELECT c.relname || '.' || p.polname, c.relname || '.' || p.polname,
       concat_ws(' | ', p.polcmd, p.polpermissive, p.polroles::regrole[]::text,
                 pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)), ''
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %s AND NOT c.relispartition
"""
TYPES = """
SELECT t.typname, t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text, ''
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
 WHERE n.nspname = %s
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                   AND d.deptype = 'e')
 GROUP BY t.typname
"""
KIND_NAMES = {"functions": "function", "views": "view", "policies": "policy", "types": "type"}
QUERIES = {"functions": FUNCTIONS, "views": VIEWS, "policies": POLICIES, "types": TYPES}


def rendered(cur, kind: str, schema: str) -> dict[str, tuple[str, str]]:
    """``{name (arguments for functions): (definition as PostgreSQL renders it, PUBLIC's right)}`` in ``schema``."""
    cur.execute(QUERIES[kind], (schema,))
    return {key: (definition, acl) for _ident, key, definition, acl in cur.fetchall()}


@pytest.fixture
def owner_cursor():
    """A cursor of the owner role on the migrated test database, in a transaction that is rolled back."""
    owner = settings.DATABASE_OWNER
    with psycopg.connect(
        dbname=connection.settings_dict["NAME"],
        host=owner["HOST"],
        port=owner["PORT"] or 5432,
        user=owner["USER"],
        password=owner["PASSWORD"],
    ) as conn:
        with conn.cursor() as cur:
            cur.execute("SET search_path = scratch, public")
            cur.execute("SET check_function_bodies = off")  # older versions may name columns since dropped
            yield cur
        conn.rollback()


def test_every_sql_object_in_the_database_is_its_newest_file(owner_cursor):
    cur = owner_cursor
    files = object_files()
    assert files, "no object files found"
    migrated = {kind: rendered(cur, kind, "public") for kind in KINDS}
    covered: dict[str, dict[str, Path]] = {kind: {} for kind in KINDS}
    problems = []
    for (_app, kind, name), versions in sorted(files.items()):
        for position, (_version, path) in enumerate(versions):
            cur.execute("SAVEPOINT object_file")
            try:
                cur.execute("CREATE SCHEMA scratch")
                if kind == "policies":
                    table = name.split(".", 1)[0]
                    cur.execute(f'CREATE TABLE scratch."{table}" (LIKE public."{table}")')
                cur.execute(path.read_text())
                mine = rendered(cur, kind, "scratch")
            except psycopg.Error as exc:
                if position == 0:
                    problems.append(f"{path.relative_to(ROOT)}: does not install ({exc.diag.message_primary})")
                mine = {}
            finally:
                cur.execute("ROLLBACK TO SAVEPOINT object_file")
            if position == 0 and not mine:
                problems.append(f"{path.relative_to(ROOT)}: defines no {KIND_NAMES[kind]} (wrong folder?)")
            for key, (definition, acl) in mine.items():
                if key in covered[kind]:
                    continue  # a newer version defines it
                covered[kind][key] = path
                if key not in migrated[kind]:
                    if position == 0:
                        problems.append(f"{path.relative_to(ROOT)}: {key} is not in the migrated database")
                    continue
                have, have_acl = migrated[kind][key]
                if have != definition:
                    pairs = zip(have.splitlines() + [""], definition.splitlines() + [""], strict=False)
                    first = next((f"{a!r} here, {b!r} in the file" for a, b in pairs if a != b), "")
                    problems.append(
                        f"{KIND_NAMES[kind]} {key} differs from its newest file {path.relative_to(ROOT)}: {first[:300]}"
                    )
                elif kind == "functions" and have_acl != acl:
                    problems.append(f"function {key}: {have_acl}, but not after its file {path.relative_to(ROOT)}")
    declared = library_functions()
    for kind in KINDS:
        for key in sorted(set(migrated[kind]) - set(covered[kind])):
            if kind == "functions" and key.split("(", 1)[0] in declared:
                continue
            problems.append(f"{KIND_NAMES[kind]} {key} has no file under <app>/sql/{kind}/")
    assert not problems, "\n".join(problems)


def library_functions() -> set[str]:
    """Names of the functions django-pgtrigger and django-pghistory own: one per trigger declared on a model
    (its pgid) and the two helpers their migrations install."""
    import pgtrigger

    return {trigger.get_pgid(model) for model, trigger in pgtrigger.registered()} | {
        "_pgtrigger_should_ignore",
        "_pgh_attach_context",
    }


def test_every_declared_trigger_is_installed_as_declared():
    """What the model declares is what the database runs: pgtrigger compares each installed trigger's hash."""
    import pgtrigger

    triggers = pgtrigger.registered()
    assert len(triggers) >= 24, "the audit trail's triggers are registered"
    statuses = {
        f"{model._meta.label}:{trigger.name}": trigger.get_installation_status(model)[0] for model, trigger in triggers
    }
    assert {uri: status for uri, status in statuses.items() if status != "INSTALLED"} == {}


def test_the_check_sees_a_function_that_differs_from_its_file(owner_cursor):
    """The comparison is not vacuous: a function replaced in the database no longer matches its file."""
    cur = owner_cursor
    path = ROOT / "wedsync_ops/tenancy/sql/functions/org_local_date.v1.sql"
    before = rendered(cur, "functions", "public")["org_local_date(org uuid, at timestamp with time zone)"]
    cur.execute(
        "CREATE OR REPLACE FUNCTION org_local_date(org uuid, at timestamptz) RETURNS date LANGUAGE sql "
        "STABLE AS $$ SELECT (at AT TIME ZONE 'UTC')::date $$"
    )
    after = rendered(cur, "functions", "public")["org_local_date(org uuid, at timestamp with time zone)"]
    cur.execute("CREATE SCHEMA scratch")
    cur.execute(path.read_text())
    from_file = rendered(cur, "functions", "scratch")["org_local_date(org uuid, at timestamp with time zone)"]
    assert from_file == before
    assert from_file != after
