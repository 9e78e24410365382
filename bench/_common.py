"""What the benchmarks share: a bench database of their own, created and dropped around the run.

    from _common import prepare_database          # PostgreSQL (named database) or a temporary SQLite file
    from _common import create_database, drop_database   # PostgreSQL, the database named in the URL

The scripts run as `python bench/<name>.py`, so this directory is on `sys.path` and `_common` imports as is.
A DATABASE_URL names the server (and, for create/drop, the database); the server's `postgres` database is
used to create and drop it.
"""

import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def _admin_url(url: str) -> tuple[str, str]:
    """The URL of the server's `postgres` database, and the database name `url` names."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def _quoted(name: str) -> str:
    if not name or '"' in name:
        raise ValueError(f"not a database name we create: {name!r}")
    return f'"{name}"'


def create_database(url: str) -> None:
    """Create the PostgreSQL database `url` names, dropping it first if it exists."""
    import psycopg

    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {_quoted(name)}")


def drop_database(url: str) -> None:
    import psycopg

    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)")


def database_exists(url: str) -> bool:
    import psycopg

    admin, name = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as connection:
        return (
            connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
        )


def named_database_url(url: str, name: str) -> str:
    """`url` with its database replaced by `name` (the server stays the same)."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def prepare_database(url: str, name: str, *, create: bool = True):
    """The URL of a fresh bench database and a function that removes it.

    On PostgreSQL the database is `name` on the server `url` names (created now, unless `create` is False:
    then an existing one is reused and kept); otherwise a SQLite file in a temporary folder.
    """
    if is_postgres(url):
        bench_url = named_database_url(url, name)
        if create:
            create_database(bench_url)
            return bench_url, lambda: drop_database(bench_url)
        return bench_url, lambda: None
    folder = tempfile.mkdtemp(prefix="afterresume-bench-")
    return f"sqlite:///{Path(folder) / 'bench.sqlite3'}", lambda: shutil.rmtree(folder, ignore_errors=True)
