"""The form pages as the service serves them: the built page, a fresh token, kept input."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from inquiry_support import post

from consent_api.records import store as records
from consent_api.site.forms import ALL_FORMS

TOKEN = re.compile(r'name="form_token" value="([^"]*)"')
#: Every page with a form, and the inquiry form's thank-you page: all served by the service.
FORM_PAGES = [f"/{form.page}" for form in ALL_FORMS.values()]
SERVED = [*FORM_PAGES, "/contact/thanks/"]


def test_form_pages_are_the_built_pages_with_a_fresh_token_each(
    client: FlaskClient, built_site: Path
) -> None:
    for path in FORM_PAGES:
        first, second = client.get(path), client.get(path)
        assert first.status_code == 200
        assert first.headers["Cache-Control"] == "no-store"
        policy = (built_site / "csp.txt").read_text(encoding="utf-8").strip()
        assert first.headers["Content-Security-Policy"] == policy
        assert '<nav class="md-tabs"' in first.text  # the site's own page, header and all
        tokens = TOKEN.findall(first.text) + TOKEN.findall(second.text)
        assert len(tokens) == 2 and all(tokens) and tokens[0] != tokens[1]


def test_built_form_pages_carry_no_token_and_say_what_is_done_with_the_data(
    built_site: Path,
) -> None:
    for form in ALL_FORMS.values():
        page = (built_site / form.page / "index.html").read_text(encoding="utf-8")
        root = "../" * form.page.count("/")
        assert TOKEN.findall(page) == [""]
        assert f'href="{root}legal/privacy/"' in page and f'href="{root}legal/retention/"' in page
        assert f'action="/api/{form.path}"' in page


def test_errors_and_input_come_back_in_the_answer_itself(client: FlaskClient) -> None:
    page = post(client, "demo", plain=True, phone="12", organization="Clinic <b>&</b>")
    assert page.status_code == 422
    assert "Location" not in page.headers
    assert page.headers["Cache-Control"] == "no-store"
    assert '<nav class="md-tabs"' in page.text  # the site's own page, header and all
    assert "Enter a phone number of 7 to 15 digits" in page.text
    assert 'value="Clinic &lt;b&gt;&amp;&lt;/b&gt;"' in page.text
    assert 'aria-invalid="true"' in page.text
    assert '<option value="group" selected>' in page.text
    assert TOKEN.findall(page.text)[0]


def test_a_refused_page_keeps_the_site_csp_though_answered_under_the_api(
    client: FlaskClient, built_site: Path
) -> None:
    page = post(client, plain=True, email="nope")
    policy = (built_site / "csp.txt").read_text(encoding="utf-8").strip()
    assert page.headers["Content-Security-Policy"] == policy


def test_a_long_non_latin_message_with_a_bad_email_comes_back_whole(client: FlaskClient) -> None:
    message = "患者の予約について" * 166 + "確認"  # 1,496 characters, 4,488 bytes in UTF-8
    page = post(client, plain=True, email="ada@", message=message)
    assert page.status_code == 422
    assert f">{message}</textarea>" in page.text
    assert "Enter a valid email address" in page.text
    assert all(message not in value and "ada@" not in value for value in page.headers.values())


def test_a_privacy_request_shows_its_reference_without_putting_it_in_a_url(
    client: FlaskClient,
) -> None:
    page = post(client, plain=True, topic="privacy")
    assert page.status_code == 200
    assert "Location" not in page.headers
    reference = re.search(r"reference ID is <strong>([^<]+)</strong>", page.text)
    assert reference is not None
    with client.application.app_context():
        assert records.get(reference.group(1)).kind == "contact"


def test_a_reference_in_the_url_is_never_shown(client: FlaskClient) -> None:
    page = client.get("/contact/thanks/?ref=forged.reference")
    assert page.status_code == 200
    assert "reference ID" not in page.text
    assert "Thank you" in page.text


@pytest.mark.parametrize("path", SERVED)
def test_served_pages_come_compressed_to_a_browser_that_accepts_gzip(
    client: FlaskClient, path: str
) -> None:
    answer = client.get(path, headers={"Accept-Encoding": "gzip, deflate"})
    assert answer.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in answer.headers["Vary"]
    assert len(answer.data) < len(gzip.decompress(answer.data)) / 3
    assert '<nav class="md-tabs"' in gzip.decompress(answer.data).decode("utf-8")


@pytest.mark.parametrize("path", SERVED)
def test_served_pages_come_plain_to_a_client_that_asks_for_no_encoding(
    client: FlaskClient, path: str
) -> None:
    answer = client.get(path)
    assert "Content-Encoding" not in answer.headers
    assert "Accept-Encoding" in answer.headers["Vary"]
    assert '<nav class="md-tabs"' in answer.text
