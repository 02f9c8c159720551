"""``INSERT ... ON CONFLICT`` on SQLite and PostgreSQL: SQLAlchemy's two dialect constructs,
chosen by the connection, so that several instances add to the same counters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def _insert(connection: Connection, table: Table) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def add(connection: Connection, table: Table, key: Mapping[str, Any], **amounts: int) -> None:
    """Insert the row ``key`` with ``amounts``, or add ``amounts`` to the row already there."""
    statement = _insert(connection, table).values(**key, **amounts)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=list(key),
            set_={name: table.c[name] + statement.excluded[name] for name in amounts},
        )
    )


def insert_new(connection: Connection, table: Table, values: Mapping[str, Any]) -> bool:
    """Insert ``values`` unless a row with the same primary key exists; whether it was new."""
    # RETURNING, not the row count: psycopg reports -1 for an INSERT ... ON CONFLICT.
    statement = _insert(connection, table).values(**values).on_conflict_do_nothing()
    first = next(iter(table.primary_key.columns))
    return connection.execute(statement.returning(first)).first() is not None
