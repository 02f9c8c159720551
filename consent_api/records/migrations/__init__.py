"""The database's migrations, run by Alembic: the scripts in ``versions/``, oldest first.

Each script's DDL is written out in full and fixed once released: a later change to a table in
``schema`` comes with a new script (``revision`` one more than the newest, ``down_revision`` the
newest). Revisions are numbered ``0001``, ``0002``, ... so that a database's version is a number.

A database made before Alembic ran the migrations has a ``schema_version`` table instead of
Alembic's ``alembic_version``: it is stamped at the version that table names, then upgraded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

#: The scripts live beside this file, so an installed package finds them.
SCRIPTS = Path(__file__).resolve().parent
#: Where the migrations before Alembic recorded the version (dropped by migration 4).
LEGACY_VERSION_TABLE = "schema_version"
#: Any constant works: it only keeps two hosts from migrating one PostgreSQL database at once.
_PG_MIGRATION_LOCK = 0x636F6E73656E74


@dataclass(frozen=True)
class Migration:
    version: int
    name: str


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for these scripts, run on ``connection`` when given."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    # env.py runs the scripts on this connection, inside its transaction.
    config.attributes["connection"] = connection
    return config


#: Oldest first; versions are 1, 2, 3, ... without gaps.
MIGRATIONS = [
    Migration(int(script.revision), script.doc)
    for script in reversed(list(ScriptDirectory.from_config(alembic_config()).walk_revisions()))
]
LATEST = MIGRATIONS[-1].version


def current_version(connection: Connection) -> int:
    """The newest migration applied to the database (0 for an empty one)."""
    revision = MigrationContext.configure(connection).get_current_revision()
    if revision is not None:
        return int(revision)
    if connection.dialect.has_table(connection, LEGACY_VERSION_TABLE):
        legacy = connection.scalar(text(f"SELECT max(version) FROM {LEGACY_VERSION_TABLE}"))
        return int(legacy or 0)
    return 0


def migrate(connection: Connection) -> list[Migration]:
    """Apply the pending migrations inside the caller's transaction; returns what was applied."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    done = current_version(connection)
    config = alembic_config(connection)
    if done and MigrationContext.configure(connection).get_current_revision() is None:
        command.stamp(config, f"{done:04d}")
    command.upgrade(config, "head")
    return [migration for migration in MIGRATIONS if migration.version > done]
