"""What the site build and the service share, free of Flask: the registry read from
``mkdocs.yml`` (categories, retention periods, the banner fingerprint, the API base), the policy
versions, the form declarations and the forms' markup with its templates.

May import: the standard library, PyYAML, Jinja2 and ``consent_api.exc``; never Flask, pydantic
or another package of ``consent_api``.
"""
