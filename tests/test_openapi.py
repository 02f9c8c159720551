"""The OpenAPI document: valid, generated from the declared models, exactly what is accepted."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from consent_api.consent import ConsentRequest


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json
    return body


def schema_titled(document: dict[str, Any], title: str) -> dict[str, Any]:
    schemas = document["components"]["schemas"].values()
    found: dict[str, Any] = next(schema for schema in schemas if schema.get("title") == title)
    return found


def test_document_is_valid_openapi_3(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.")
    validate(document)


def test_document_describes_every_endpoint_and_its_errors(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert set(paths) == {
        "/api/health",
        "/api/consent",
        "/api/consent/{receipt}",
        "/api/contact",
        "/api/demo",
        "/api/form-token",
        "/api/events",
        "/api/privacy-requests",
        "/api/privacy-requests/confirm",
        "/api/privacy-requests/confirm/{token}",
        "/api/privacy-requests/download",
        "/api/privacy-requests/download/{token}",
        "/api/consent-records",
        "/api/consent-records/delete",
    }
    post = paths["/api/consent"]["post"]
    assert {"201", "400", "413", "415", "429", "503"} <= set(post["responses"])
    assert {"200", "400", "404", "503"} <= set(paths["/api/consent/{receipt}"]["get"]["responses"])
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        next(
            k
            for k, v in document["components"]["schemas"].items()
            if v.get("title") == "ConsentRequest"
        )
    )
    error = schema_titled(document, "Error")
    assert error["required"] == ["error"]


def test_consent_request_schema_is_the_models_with_the_sites_categories(
    document: dict[str, Any],
) -> None:
    schema = schema_titled(document, "ConsentRequest")
    assert set(schema["properties"]) == set(ConsentRequest.model_fields)
    assert schema["additionalProperties"] is False
    choices = schema["properties"]["choices"]
    assert choices["required"] == ["necessary", "analytics"]
    assert choices["properties"]["necessary"] == {"const": True}
    assert choices["additionalProperties"] is False
    assert schema["properties"]["policy_version"]["enum"] == ["2026-03-24"]


def test_the_events_endpoint_names_the_built_pages_and_takes_what_sendbeacon_sends(
    document: dict[str, Any],
) -> None:
    body = document["paths"]["/api/events"]["post"]["requestBody"]["content"]
    assert {"application/json", "text/plain"} <= set(body)
    event = schema_titled(document, "AnalyticsEvent")
    assert {"/", "/demo/", "/contact/", "/legal/cookies/"} <= set(
        event["properties"]["path"]["enum"]
    )
    assert "/wp-admin/" not in event["properties"]["path"]["enum"]


def test_the_privacy_request_links_answer_a_json_error_or_a_page_for_each_bad_link(
    document: dict[str, Any],
) -> None:
    paths = document["paths"]
    for action in ("confirm", "download"):
        post = paths[f"/api/privacy-requests/{action}"]["post"]["responses"]
        for status in ("400", "404", "409", "410"):
            assert {"application/json", "text/html"} <= set(post[status]["content"])
        page = paths[f"/api/privacy-requests/{action}/{{token}}"]["get"]["responses"]
        assert {"200", "400", "404", "409", "410"} <= set(page)
        assert set(page["410"]["content"]) == {"text/html"}
    download = paths["/api/privacy-requests/download"]["post"]["responses"]["200"]
    assert set(download["content"]) == {"application/zip"}
    request = schema_titled(document, "PrivacyRequest")
    assert request["properties"]["request_type"]["enum"] == ["access", "delete", "correct"]
    assert None in request["properties"]["correct_field"]["enum"]  # it may be left out
