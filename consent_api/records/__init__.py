"""Signed, minimal records: the schema, signing with a salt per kind, IDs and the clock, and
durable storage (SQLite with its writer queue and group commit, or PostgreSQL).

May import: ``consent_api.site``, ``consent_api.exc`` and ``consent_api.background``; never
``web``, ``inquiries`` or ``retention``.
"""
