"""What the site build and the service share, free of Flask, and everything the site generates.

Declarations: the registry read from ``mkdocs.yml`` (categories, retention periods, the banner
fingerprint, the API base), the policy versions, the form declarations and the forms' markup
with its templates. Generation, for any builder: the policy's pages, redlines and feed, the
retention schedule, the banner's checks and template values, the forms' placement, the staging
for builders that run no MkDocs hooks, and the post-build step (minification, the CSP).

May import: the standard library, PyYAML, Jinja2, Markdown, lxml, feedgen, rjsmin, rcssmin and
``consent_api.exc``; never Flask, pydantic, SQLAlchemy or another package of ``consent_api``.
"""
