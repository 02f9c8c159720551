"""First-party analytics within the consent given: the events endpoint the gated script posts
to, the daily salt that counts unique visitors without keeping who they are, the daily
aggregates (upserts on SQLite and PostgreSQL), and the report for marketers (text, CSV, JSON and
a self-contained HTML file with charts).

May import: ``consent_api.records``, ``consent_api.web``, ``consent_api.site``,
``consent_api.retention`` (to register the aggregates' purge), ``consent_api.exc`` and
``consent_api.background``.
"""
