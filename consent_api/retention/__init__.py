"""How long records live and who may reach them: the purge, holds, and the access and erasure
commands for privacy rights.

May import: ``consent_api.records``, ``consent_api.site``, ``consent_api.exc`` and
``consent_api.background``.
"""
