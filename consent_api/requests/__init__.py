"""Privacy requests (section 11 of the Privacy Policy): access, deletion and correction.

The request page's flow (``views``), the signed links in its emails (``links``), the emails
(``emails``), the legal deadlines (``deadlines``), the request log (``log``), the work done on
fulfilment (``fulfil``, ``packages``), the cookie-consent records reached by receipt
(``consent_records``) and the staff's commands (``cli``). May import ``records``, ``outbox``,
``web``, ``site``, ``inquiries`` (the form machinery) and ``retention``; nothing imports it but
``app`` and ``cli``.
"""
