"""Schemathesis against the service's own OpenAPI document: every endpoint, generated requests.

``make test`` runs a short pass; ``make fuzz`` runs thousands of cases (``FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from consent_api import create_app

#: What an HTML form without JavaScript posts; the document lists both.
FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))

# Schemathesis collects its tests from a schema known at import time, so the app under test is
# built here, on a database of its own that lives as long as the test process.
_database = tempfile.TemporaryDirectory(prefix="fuzz-")
app = create_app(
    {
        "TESTING": True,
        "DATABASE_URL": f"sqlite:///{Path(_database.name) / 'fuzz.sqlite3'}",
        "SITE_DIR": "",
        "SECRET_KEYS": ["fuzz-secret-key"],
        "ACCESS_LOG": False,
    }
)
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_server_error_and_every_answer_matches_the_document(case: schemathesis.Case) -> None:
    # Some rules are beyond a JSON schema (a receipt must carry a valid signature, accept_all
    # must grant every category), so a schema-valid request may still be refused with a 4xx:
    # that one check is off; server errors and undocumented answers still fail.
    excluded = [positive_data_acceptance]
    response = case.call()
    if case.media_type in FORM_TYPES or response.status_code == 413:
        # A plain HTML form post is answered with a redirect whatever it holds (to the thank-you
        # page, or back to the form with its errors); the JSON twin of each case gets the 400.
        # A body over the size limit is refused with 413 before anyone reads it: a rejection
        # too, though not one of the codes schemathesis expects.
        excluded.append(negative_data_rejection)
    case.validate_response(response, excluded_checks=excluded)
    if case.media_type in FORM_TYPES and response.status_code == 303:
        headers = {name.lower(): value for name, value in response.headers.items()}
        location = headers["location"]
        location = location[0] if isinstance(location, list) else location
        # Back to a page of this site, never somewhere a crafted post names.
        assert location.startswith("/") and not location.startswith("//")


def test_every_endpoint_under_api_is_in_the_document_and_so_fuzzed() -> None:
    # An endpoint left out of the document would escape the generated requests above.
    documented = app.test_client().get("/api/openapi.json").json["paths"]
    routes = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
    }
    assert routes - set(documented) == {"/api/openapi.json"}
