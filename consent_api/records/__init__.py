"""Signed, minimal records: the store (``store``), the schema, signing with a salt per kind, IDs
and the clock (``ids``), and durable storage (``storage``: SQLite or PostgreSQL), with what only
SQLite needs in ``sqlite`` (its cross-process writer queue, the group commit) and ``files``
(checkpoints and vacuums).

May import: ``consent_api.site``, ``consent_api.exc`` and ``consent_api.background``; never
``web``, ``inquiries`` or ``retention``.
"""
