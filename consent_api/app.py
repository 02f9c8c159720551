"""The Flask application factory: configuration, storage, the API blueprints and the site."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from consent_api import config, consent
from consent_api.analytics import events as analytics
from consent_api.inquiries import deliveries, ratelimit
from consent_api.inquiries import pages as form_pages
from consent_api.inquiries import views as inquiries
from consent_api.outbox import deliver as outbox
from consent_api.records import storage
from consent_api.requests import consent_records
from consent_api.requests import emails as request_emails
from consent_api.requests import packages as request_packages
from consent_api.requests import views as privacy_requests
from consent_api.retention import purge as retention
from consent_api.site import registry
from consent_api.web import (
    access_log,
    body_limit,
    cors,
    errors,
    health,
    openapi,
    security,
    static_site,
)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the service: configuration, storage, the API blueprints and the static site."""
    app = Flask("consent_api", instance_relative_config=True, static_folder=None)
    config.load(app, test_config)
    errors.init_app(app)
    registry.init_app(app)
    storage.init_app(app)
    cors.init_app(app)
    app.register_blueprint(health.bp)
    consent.init_app(app)
    ratelimit.init_app(app)
    inquiries.init_app(app)
    outbox.init_app(app)
    deliveries.init_app(app)
    form_pages.init_app(app)
    privacy_requests.init_app(app)
    request_packages.init_app(app)
    consent_records.init_app(app)
    request_emails.init_app(app)
    retention.init_app(app)
    analytics.init_app(app)
    app.register_blueprint(openapi.bp)
    security.init_app(app)
    static_site.init_app(app)
    body_limit.init_app(app)
    security.trust_proxies(app)
    access_log.init_app(app)
    return app
