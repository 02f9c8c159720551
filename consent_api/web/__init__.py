"""HTTP around the handlers: JSON errors, security headers, CORS, the built site, the OpenAPI
document and request bodies, health, the access log, and the embedded HTTP server (waitress with
request deadlines and secured error answers; ``consent_api.serve`` runs it in worker processes).

May import: ``consent_api.records``, ``consent_api.site`` and ``consent_api.exc``; never
``inquiries`` or ``retention``.
"""
