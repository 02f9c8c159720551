"""Schemathesis against the service's own OpenAPI document: every endpoint, generated requests.

``make test`` runs a short pass; ``make fuzz`` runs thousands of cases (``FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from consent_api import create_app

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
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
