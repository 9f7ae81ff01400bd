"""Alembic migrations of the store, run from ``Store.open`` (no ``alembic.ini`` needed).

``bring_to_head`` checks the database's schema revision: a revision this code does not know means a
newer motcua wrote the database, and is refused rather than guessed at.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy.engine import Connection, Engine

from queue_server.errors import StoreError

HERE = Path(__file__).resolve().parent
# The advisory lock serialising schema changes: one above the store's "append to events" lock.
_MIGRATE_LOCK = 0x6D6F74637561 + 1


def postgres_lock(conn: Connection) -> None:
    """Serialise schema changes between processes opening the same PostgreSQL database at once."""
    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATE_LOCK)))


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration pointing at this package's scripts, bound to ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    return ",".join(heads)


def bring_to_head(engine: Engine, shown: str, *, upgrade: bool) -> None:
    """Check the schema revision of the database; upgrade it to the latest when ``upgrade`` is true."""
    with engine.connect() as conn:
        conn.execution_options(motcua_write=True)
        with conn.begin():
            if engine.dialect.name == "postgresql":
                postgres_lock(conn)
            config = alembic_config(conn)
            script = ScriptDirectory.from_config(config)
            heads = set(script.get_heads())
            current = set(MigrationContext.configure(conn).get_current_heads())
            for revision in current:
                try:
                    script.get_revision(revision)
                except (CommandError, RevisionError):
                    raise StoreError(
                        f"database {shown} has schema revision {revision}, newer than this motcua knows "
                        f"(latest {','.join(sorted(heads))}): upgrade motcua before using it"
                    ) from None
            if current == heads:
                return
            if not upgrade:
                have = ",".join(sorted(current)) or "no motcua schema"
                raise StoreError(
                    f"database {shown} has {have}, this motcua needs {','.join(sorted(heads))}: "
                    f"run `motcua db upgrade --db URL`"
                )
            command.upgrade(config, "head")
