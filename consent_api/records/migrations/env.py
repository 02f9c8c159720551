"""Alembic's entry point: run the migrations on the connection ``migrate`` hands over."""

from __future__ import annotations

from alembic import context

from consent_api.records.schema import metadata

connection = context.config.attributes["connection"]
# Inside the caller's transaction (Alembic starts none of its own on a connection already in
# one): the migrations and the version they leave commit together, or not at all.
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
