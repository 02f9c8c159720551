"""The contact and demo-request forms: their endpoints and models, the pages that show a form
with its errors, single-use form tokens, the rate limit, what the outbox delivers about an
inquiry (``notify``, ``acknowledge``, queued by ``deliveries``) and the export.

May import: ``consent_api.records``, ``consent_api.outbox``, ``consent_api.web``,
``consent_api.site``, ``consent_api.exc`` and ``consent_api.background``.
"""
