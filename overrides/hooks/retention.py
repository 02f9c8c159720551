"""The published retention schedule, ``/legal/retention/``, from ``extra.retention``, with the
line about staff-mailbox copies of inquiries from ``extra.notifications``.

The service's purge reads the same numbers through ``consent_api.site.registry``, so the schedule a
reader sees and the deletion the code performs cannot disagree.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files, InclusionLevel

from consent_api.exc import ConfigError
from consent_api.site import registry

RETENTION = "legal/retention.md"


def schedule_markdown(
    periods: dict[str, registry.Retention], mailbox: registry.MailboxCopies
) -> str:
    rows = "\n".join(
        f"| {period.label} | {period.days} days | {period.extended_by or 'Never extended.'} |"
        for period in periods.values()
    )
    # The copies the sales notifications leave in staff mailboxes: beside the schedule, from
    # the same configuration, because the service's purge cannot reach them.
    rows += f"\n| {mailbox.label} | {mailbox.kept} | {mailbox.note} |"
    return (
        "---\ntitle: Retention schedule\n"
        "description: How long the CareCaller website keeps each kind of record it stores.\n"
        "---\n\n"
        "# Retention schedule\n\n"
        "How long this website keeps each kind of record it stores, counted from the day the "
        "record is made, and what extends that period. When the period ends the record is "
        "deleted. The service that deletes the records reads these same periods.\n\n"
        "| Record | Deleted after | What extends the period |\n"
        "| --- | --- | --- |\n"
        f"{rows}\n\n"
        "The [Privacy Policy](privacy/index.md) describes how CareCaller handles information.\n"
    )


def on_files(files: Files, config: MkDocsConfig) -> Files:
    try:
        periods = registry.read_retention(config.extra, Path(config.config_file_path))
        mailbox = registry.read_mailbox_copies(config.extra, Path(config.config_file_path))
    except ConfigError as error:
        raise PluginError(str(error)) from error
    files.append(
        File.generated(
            config,
            RETENTION,
            content=schedule_markdown(periods, mailbox),
            inclusion=InclusionLevel.INCLUDED,
        )
    )
    return files
