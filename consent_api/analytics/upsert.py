"""``INSERT ... ON CONFLICT`` of several rows in one statement, on SQLite and PostgreSQL alike,
so that several instances add to the same counters.

Both databases take the same statement text (``ON CONFLICT (key) DO UPDATE SET n = t.n +
excluded.n``, ``RETURNING``), built once per table and row count from the table's own columns and
cached: an event runs three prepared statements, not six built afresh. Rows are written in the
order given: callers give every transaction's shared rows first, so that on PostgreSQL two
transactions wait for each other at their first row instead of deadlocking.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, TextClause, bindparam, text


@functools.cache
def _statement(table: Table, rows: int) -> TextClause:
    columns = [column.name for column in table.columns]
    keys = [column.name for column in table.primary_key.columns]
    # Integer columns beside the key are counters; any other column (a salt) is kept as it is.
    counters = [
        column.name
        for column in table.columns
        if column.name not in keys and column.type.python_type is int
    ]
    values = ", ".join(
        "(" + ", ".join(f":{name}_{row}" for name in columns) + ")" for row in range(rows)
    )
    action = (
        "DO UPDATE SET "
        + ", ".join(f"{name} = {table.name}.{name} + excluded.{name}" for name in counters)
        if counters
        else "DO NOTHING"
    )
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {values} "
        f"ON CONFLICT ({', '.join(keys)}) {action} RETURNING {keys[-1]}"
    )
    # Typed parameters: dates are stored as each backend's Date type stores them.
    params = [
        bindparam(f"{column.name}_{row}", type_=column.type)
        for row in range(rows)
        for column in table.columns
    ]
    return text(sql).bindparams(*params)


def write(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> set[Any]:
    """Insert ``rows``, or add their counters to the rows already there (a table without
    counters keeps the rows there as they are); returns the last key column of the rows
    inserted or updated: for a table without counters, the rows that were new."""
    values = {
        f"{name}_{index}": value for index, row in enumerate(rows) for name, value in row.items()
    }
    return set(connection.execute(_statement(table, len(rows)), values).scalars())
