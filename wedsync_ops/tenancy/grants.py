"""Privileges of the application role, granted by the owner after every migrate."""

from django.conf import settings
from django.db import connections


def grant_app_role(sender=None, using="default", **kwargs):
    """GRANT the application role what it needs on every non-partition table, sequence and function.

    Partitions are skipped on purpose: RLS policies live on the partitioned
    parent and are bypassed by direct access to a partition, so the
    application role may only reach partitions through their parent.
    A no-op when the migrating role is the application role itself.
    """
    role = settings.DB_APP_ROLE
    conn = connections[using]
    with conn.cursor() as cur:
        cur.execute("SELECT current_user")
        if cur.fetchone()[0] == role:
            return
        cur.execute(
            "SELECT quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v') AND NOT c.relispartition"
            " AND pg_get_userbyid(c.relowner) = current_user"
        )
        tables = [row[0] for row in cur.fetchall()]
        quoted_role = conn.ops.quote_name(role)
        for table in tables:
            cur.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON public.{table} TO {quoted_role}")
        cur.execute(
            "SELECT quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind = 'S' AND pg_get_userbyid(c.relowner) = current_user"
        )
        for (seq,) in cur.fetchall():
            cur.execute(f"GRANT USAGE, SELECT ON SEQUENCE public.{seq} TO {quoted_role}")
        cur.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) = current_user"
        )
        for (signature,) in cur.fetchall():
            cur.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {quoted_role}")
