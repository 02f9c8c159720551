"""How long records live: the purge (with the steps other packages register) and holds.

May import: ``consent_api.records``, ``consent_api.site``, ``consent_api.exc`` and
``consent_api.background``.
"""
