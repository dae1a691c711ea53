"""Reads of database health that pages share. (Contract; the dbmonitor helper implements.)"""


def database_summary() -> dict:
    """``get_database_monitoring_summary()`` as a dict.

    Shape: ``{"status": "ok"|"warning"|"critical", "checked_at": iso str,
    "connections": {"used": int, "max": int, "idle_in_transaction": int},
    "slow_queries": int, "pg_stat_statements": bool,
    "tables_needing_vacuum": int, "rls_unprotected_tables": int, "open_events": int}``.
    Staff and service contexts only: for any other context every count is 0.
    """
    raise NotImplementedError
