"""nginx's security-headers snippet is generated from the service's own table."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import ROOT

from consent_api.cli import cli
from consent_api.web import deploy_headers


def test_the_committed_snippet_is_the_generated_one() -> None:
    committed = (ROOT / deploy_headers.SNIPPET).read_text(encoding="utf-8")
    assert committed == deploy_headers.nginx_snippet(), (
        f"run: consent-api deploy-headers > {deploy_headers.SNIPPET}"
    )


def test_the_command_prints_the_snippet_without_an_app() -> None:
    # No database, no secret, no site: it works on a build machine with nothing configured.
    result = CliRunner().invoke(cli, ["deploy-headers"], env={"CONSENT_API_ENV": "production"})
    assert result.exit_code == 0, result.output
    assert result.output == deploy_headers.nginx_snippet()
    lines = result.output.splitlines()
    assert 'add_header X-Frame-Options "DENY" always;' in lines
    assert '# add_header Strict-Transport-Security "max-age=31536000" always;' in lines


def test_a_value_nginx_could_not_quote_is_refused() -> None:
    with pytest.raises(ValueError, match="X-Test"):
        deploy_headers.directive("X-Test", 'say "hi"')
