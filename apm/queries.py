"""The statements of apm's ingest, read once from ``apm/sql/queries/<name>.sql`` (raw SQL lives in .sql files)."""

from functools import cache
from pathlib import Path

_DIR = Path(__file__).resolve().parent / "sql" / "queries"


@cache
def query(name: str) -> str:
    """The text of ``apm/sql/queries/<name>.sql``; raises FileNotFoundError for an unknown name."""
    return (_DIR / f"{name}.sql").read_text()
