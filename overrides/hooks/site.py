"""MkDocs' adapter over the project's own site generation (``consent_api.site``).

Everything the site generates is the project's code, which any builder can use; this hook only
hands it to MkDocs at the right events, so that ``mkdocs build`` and ``mkdocs serve`` (live
preview) publish it. ``consent_api.site.stage`` hands the same to Zensical, which runs no hooks.

- the Privacy Policy's versions, history, redlines and feed (``policy_pages``);
- the retention schedule (``retention_page``);
- the cookie banner's checks and the values the templates read from ``config.extra.generated``:
  banner fingerprint, policy version, API base, choice lifetime (``banner``);
- the contact and demo-request forms in their pages (``form_placement``);
- after the build, minified scripts and styles and the Content-Security-Policy (``postbuild``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import markdown
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page

from consent_api.exc import ConfigError
from consent_api.site import (
    banner,
    form_placement,
    policy_history,
    policy_pages,
    postbuild,
    registry,
)
from consent_api.site.retention_page import RETENTION, schedule_markdown


@dataclass
class _Build:
    """What one build knows: the registry read once, and the policy as published."""

    registry: registry.Registry
    policy: policy_pages.PolicySite


_build: _Build | None = None


def _state() -> _Build:
    if _build is None:
        raise PluginError("the site hook's on_config did not run")
    return _build


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    global _build
    found = banner.problems(config.extra.get("consent"))
    if found:
        raise PluginError("The cookie banner's configuration is wrong:\n  " + "\n  ".join(found))
    if banner.GENERATED in config.extra:
        raise PluginError(f"extra.{banner.GENERATED} is the build's own: mkdocs.yml cannot set it")
    try:
        reg = registry.build(Path(config.config_file_path), config.extra, Path(config.docs_dir))
        today = policy_pages.build_date()
    except ConfigError as error:
        raise PluginError(str(error)) from error
    _build = _Build(reg, policy_pages.policy_site(reg, today))
    config.extra[banner.GENERATED] = banner.template_values(reg, today)
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    build = _state()
    for version in build.policy.versions:
        if (file := files.get_file_from_path(policy_pages.version_uri(version))) is not None:
            file.inclusion = InclusionLevel.NOT_IN_NAV
    in_nav = {policy_pages.INDEX, policy_pages.HISTORY, RETENTION}

    def add(src_uri: str, content: str | bytes) -> None:
        inclusion = InclusionLevel.INCLUDED if src_uri in in_nav else InclusionLevel.NOT_IN_NAV
        files.append(File.generated(config, src_uri, content=content, inclusion=inclusion))

    for src_uri, page in policy_history.generated_pages(build.policy).items():
        add(src_uri, page)
    try:
        add(
            policy_pages.FEED,
            policy_history.feed_xml(
                build.policy,
                site_url=config.site_url or "",
                site_name=config.site_name,
                author=config.site_author or "",
            ),
        )
    except ConfigError as error:
        raise PluginError(str(error)) from error
    add(RETENTION, schedule_markdown(build.registry.retention, build.registry.mailbox_copies))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    text, meta = policy_pages.page_markdown(_state().policy, page.file.src_uri, markdown)
    if "search" in meta:
        meta["search"] = {**(page.meta.get("search") or {}), **meta["search"]}
    page.meta.update(meta)
    return text


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    build = _state()
    published = build.policy.version_at(page.file.src_uri)
    if published is not None:
        # Kept for the redlines, which come later: generated pages follow the docs' own files.
        build.policy.texts[published.id] = html
    marked = policy_pages.redline_html(build.policy, page.file.src_uri, _renderer(config))
    if marked is not None:
        html = f"{html}\n{marked}"
    try:
        before, after = form_placement.around(
            page.meta, where=page.file.src_path, url=page.url, api_base=build.registry.api_base
        )
    except ConfigError as error:
        raise PluginError(str(error)) from error
    return before + html + after


def on_post_build(config: MkDocsConfig, **_: Any) -> None:
    theme_dir = Path(str(config.theme.custom_dir))
    postbuild.run(Path(config.site_dir), theme_dir, _state().registry.api_base)


def _renderer(config: MkDocsConfig) -> Any:
    """Markdown to HTML as this build renders it, for a version whose page this build skipped
    (``mkdocs serve --dirty`` rebuilds only changed files)."""

    def render(text: str) -> str:
        converter = markdown.Markdown(
            extensions=config.markdown_extensions, extension_configs=config.mdx_configs
        )
        html: str = converter.convert(text)
        return html

    return render
