"""Webhook settings are checked at start-up: a wrong one refuses to start, naming the setting."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest
from conftest import BIN
from webhook_support import new_secret

from consent_api import create_app
from consent_api.exc import ConfigError
from consent_api.outbox import webhook
from consent_api.records import storage

CRM = "https://hooks.crm.example/inbound/T0K3N"
SECRET = new_secret()


def settings(**changes: Any) -> dict[str, Any]:
    return {
        "ENV": "production",
        "WEBHOOK_URLS": [CRM],
        "WEBHOOK_SECRETS": [SECRET],
        "WEBHOOK_TIMEOUT": 10,
        "WEBHOOK_MAX_ATTEMPTS": 10,
        "WEBHOOK_CA_BUNDLE": "",
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "setting", "says"),
    [
        ({"WEBHOOK_URLS": ["http://hooks.crm.example/in"]}, "WEBHOOK_URLS", "https://"),
        ({"WEBHOOK_URLS": ["hooks.crm.example/in"]}, "WEBHOOK_URLS", "https://"),
        ({"WEBHOOK_URLS": ["https:///no-host"]}, "WEBHOOK_URLS", "host name"),
        ({"WEBHOOK_URLS": ["https://127.0.0.1:9/in"]}, "WEBHOOK_URLS", "development"),
        ({"WEBHOOK_URLS": ["https://localhost/in"]}, "WEBHOOK_URLS", "development"),
        ({"WEBHOOK_URLS": ["https://[::1]/in"]}, "WEBHOOK_URLS", "development"),
        ({"WEBHOOK_URLS": [CRM, CRM], "WEBHOOK_SECRETS": [SECRET] * 2}, "WEBHOOK_URLS", "twice"),
        ({"WEBHOOK_SECRETS": []}, "WEBHOOK_SECRETS", "one secret per URL"),
        ({"WEBHOOK_SECRETS": [SECRET, SECRET]}, "WEBHOOK_SECRETS", "one secret per URL"),
        ({"WEBHOOK_SECRETS": ["whsec_c2hvcnQ="]}, "WEBHOOK_SECRETS", "24 to 64"),
        ({"WEBHOOK_SECRETS": ["correct horse battery staple"]}, "WEBHOOK_SECRETS", "base64"),
        ({"WEBHOOK_SECRETS": ["whsec_" + "QUFB" * 30]}, "WEBHOOK_SECRETS", "24 to 64"),
        ({"WEBHOOK_TIMEOUT": 0}, "WEBHOOK_TIMEOUT", "above 0"),
        ({"WEBHOOK_MAX_ATTEMPTS": "many"}, "WEBHOOK_MAX_ATTEMPTS", "above 0"),
        ({"WEBHOOK_MAX_ATTEMPTS": 2.5}, "WEBHOOK_MAX_ATTEMPTS", "above 0"),
        ({"WEBHOOK_CA_BUNDLE": "/nonexistent/ca.pem"}, "WEBHOOK_CA_BUNDLE", "no such file"),
    ],
)
def test_a_wrong_webhook_setting_is_refused_naming_it(
    changes: dict[str, Any], setting: str, says: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        webhook.endpoints_from(settings(**changes))
    assert f"CONSENT_API_{setting}" in str(refused.value)
    assert says in str(refused.value)
    assert "T0K3N" not in str(refused.value)  # a URL's token is never repeated


def test_good_settings_give_one_endpoint_per_url_keyed_without_the_url() -> None:
    chat = "https://chat.example/hooks/abc"
    found = webhook.endpoints_from(
        settings(WEBHOOK_URLS=f"{CRM}, {chat}", WEBHOOK_SECRETS=f"{SECRET},{new_secret()}")
    )
    assert [endpoint.url for endpoint in found] == [CRM, chat]
    assert [endpoint.host for endpoint in found] == ["hooks.crm.example", "chat.example"]
    assert all("T0K3N" not in endpoint.key and len(endpoint.key) == 16 for endpoint in found)
    # Loopback receivers are for development only.
    local = settings(ENV="development", WEBHOOK_URLS=["https://127.0.0.1:8443/in"])
    assert [endpoint.host for endpoint in webhook.endpoints_from(local)] == ["127.0.0.1"]


def test_the_service_refuses_to_start_with_a_wrong_webhook_setting(
    app_config: dict[str, Any],
) -> None:
    with pytest.raises(ConfigError, match="CONSENT_API_WEBHOOK_URLS"):
        create_app({**app_config, "WEBHOOK_URLS": ["http://crm.example/in"]})
    app = create_app({**app_config, "WEBHOOK_URLS": [CRM], "WEBHOOK_SECRETS": [SECRET]})
    storage.dispose(app)


def test_the_command_says_which_setting_is_wrong(tmp_path: Any) -> None:
    env = {
        **os.environ,
        "CONSENT_API_ENV": "development",
        "CONSENT_API_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CONSENT_API_WEBHOOK_URLS": CRM,
        "CONSENT_API_WEBHOOK_SECRETS": "whsec_tooshort",
    }
    result = subprocess.run(
        [str(BIN / "consent-api"), "outbox"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "consent-api: CONSENT_API_WEBHOOK_SECRETS: secret 1 must be" in result.stderr
