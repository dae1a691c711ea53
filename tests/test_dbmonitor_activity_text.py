"""Live query text on /ops/db/ is normalised like pg_stat_statements (issue 13, item 2).

The application role reads every backend's ``pg_stat_activity.query`` through pg_read_all_stats;
what the portal shows of it replaces every constant by ``$n`` before the secret redaction.
"""

import threading

import pytest
from django.db import connection

from wedsync_ops.tenancy.context import service_context, staff_context


def _one(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchone()[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "SELECT * FROM users WHERE email = 'anna@example.com' AND id = 4411",
            "SELECT * FROM users WHERE email = $1 AND id = $2",
        ),
        (
            "UPDATE t SET token = E'ab\\'c', n = 3.5e-2, h = 0x1F WHERE x = $1",
            "UPDATE t SET token = $2, n = $3, h = $4 WHERE x = $1",
        ),
        (
            "INSERT INTO \"t2\" (c1) VALUES ('it''s', .5, $$dollar 'q'$$, $tag$x$tag$)",
            'INSERT INTO "t2" (c1) VALUES ($1, $2, $3, $4)',
        ),
        ("SELECT b'101', x'ff', n'nat', U&'d\\0061t' -- 'comment kept'", "SELECT $1, $2, $3, $4 -- 'comment kept'"),
        ("ALTER ROLE app PASSWORD 'hunter2-cut-off", "ALTER ROLE app PASSWORD $1"),
        ("SELECT col_2, t1.c3 FROM t1 /* 42 */", "SELECT col_2, t1.c3 FROM t1 /* 42 */"),
    ],
)
def test_constants_become_numbered_parameters(db, text, expected):
    assert _one("SELECT normalize_query_text(%s)", [text]) == expected


def test_null_stays_null(db):
    assert _one("SELECT normalize_query_text(NULL)") is None


def _raw():
    import psycopg

    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        autocommit=True,
    )


def test_a_waiting_statements_values_never_reach_the_page(client, world, transactional_db):
    holder, waiter = _raw(), _raw()
    holder.execute("SELECT pg_advisory_lock(4411013)")
    thread = threading.Thread(
        target=lambda: waiter.execute("SELECT pg_advisory_lock(4411013), 'anna@example.com'::text, 'tok_live_9f8e7d'")
    )
    thread.start()
    try:
        seen = threading.Event()
        for _ in range(200):  # until the waiter is seen waiting on the lock
            with service_context():
                if _one(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND query LIKE '%%anna@example.com%%'"
                ):
                    break
            seen.wait(0.05)
        with staff_context(world.staff.pk), connection.cursor() as cur:
            cur.execute("SELECT blocked_query FROM monitoring_blocked_queries()")
            shown = [r[0] for r in cur.fetchall()]
            cur.execute("SELECT query FROM monitoring_long_running_queries(0)")
            shown += [r[0] for r in cur.fetchall()]
        assert any("pg_advisory_lock($1), $2::text, $3" in q for q in shown), shown
        client.force_login(world.staff)
        page = client.get("/ops/db/").content.decode()
        assert "anna@example.com" not in page and "tok_live_9f8e7d" not in page
    finally:
        holder.execute("SELECT pg_advisory_unlock(4411013)")
        thread.join(timeout=10)
        waiter.close()
        holder.close()
