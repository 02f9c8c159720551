"""Whatever a client posts, the service answers it without a server error."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FIELDS = ["consent_id", "choices", "action", "policy_version", "banner_fingerprint", "gpc", "page"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)

# Mostly well-shaped bodies with arbitrary values, so that validation gets past the first field.
bodies = st.one_of(
    json_values,
    st.dictionaries(st.sampled_from([*FIELDS, "extra"]), json_values, max_size=8),
    st.fixed_dictionaries(
        {
            "consent_id": st.none() | st.text(max_size=30),
            "choices": st.dictionaries(
                st.sampled_from(["necessary", "analytics", "ads"]), json_values, max_size=3
            ),
            "action": st.sampled_from(["accept_all", "reject_all", "save_choices", "x"]),
            "policy_version": st.sampled_from(["2026-03-24", "2020-01-01", ""]),
            "banner_fingerprint": st.text(alphabet="0123456789abcdefg", max_size=70),
            "gpc": json_values,
            "page": st.text(max_size=30).map(lambda text: "/" + text),
        }
    ),
)


@settings(
    max_examples=150,
    deadline=None,
    # One app and database for the whole run: each example is a separate request to it.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=bodies, gpc_header=st.sampled_from([None, "1", "0", "yes"]))
def test_arbitrary_json_never_gets_a_server_error(
    client: FlaskClient, body: Any, gpc_header: str | None
) -> None:
    headers = {"Sec-GPC": gpc_header} if gpc_header is not None else {}
    response = client.post(
        "/api/consent", data=json.dumps(body), content_type="application/json", headers=headers
    )
    assert response.status_code in {201, 400}, response.json
    assert response.is_json


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    receipt=st.text(
        alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="/?#"),
        min_size=1,
        max_size=80,
    )
)
def test_arbitrary_receipts_never_get_a_server_error(client: FlaskClient, receipt: str) -> None:
    response = client.get(f"/api/consent/{receipt}")
    assert response.status_code in {400, 404}
