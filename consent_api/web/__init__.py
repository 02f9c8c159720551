"""HTTP around the handlers: JSON errors, security headers, CORS, the built site, the OpenAPI
document and request bodies, health and the access log.

May import: ``consent_api.records``, ``consent_api.site`` and ``consent_api.exc``; never
``inquiries`` or ``retention``.
"""
