"""The contact and demo-request forms, placed into their pages from ``consent_api.site.forms``.

A page names its form in front matter (``inquiry_form: contact``) and gets it after its text; a
thank-you page (``inquiry_thanks: contact``) gets the spot where the service shows a privacy
request's reference. The service serves these pages again with a fresh form token, so a form's
page must be where ``consent_api.site.forms`` says it is: the build fails otherwise.
"""

from __future__ import annotations

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from consent_api.site.form_markup import REFERENCE_MARKER, render_form
from consent_api.site.forms import FORMS, Form


def _form(page: Page, key: str, expected_url: str) -> Form | None:
    kind = page.meta.get(key)
    if kind is None:
        return None
    form = FORMS.get(str(kind))
    if form is None:
        raise PluginError(f"{page.file.src_path}: {key}: {kind!r} is not one of {sorted(FORMS)}")
    url = getattr(form, expected_url)
    if page.url != url:
        raise PluginError(
            f"{page.file.src_path}: the {form.kind} form's {expected_url} must be at /{url} "
            f"(consent_api.site.forms says so), not /{page.url}"
        )
    return form


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    form = _form(page, "inquiry_form", "page")
    if form is not None:
        api_base = str(config.extra.get("api_base", "/api")).rstrip("/")
        return html + render_form(form, api_base=api_base)
    if _form(page, "inquiry_thanks", "thanks") is not None:
        return REFERENCE_MARKER + html
    return html
