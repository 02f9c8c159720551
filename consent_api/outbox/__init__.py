"""Delivery that loses nothing: a queue in the records' database, claimed before sending and
retried with back-off, and its channels (email by SMTP, signed webhooks by HTTPS).

What a message says belongs to the module that queues it (``inquiries.notify``): it registers a
builder per channel and purpose (``content``), and the queue holds only record IDs, so that
erasing or purging a record takes its pending deliveries with it.

May import: ``consent_api.records``, ``consent_api.exc`` and ``consent_api.background``; never
``web``, ``inquiries`` or ``retention``.
"""
