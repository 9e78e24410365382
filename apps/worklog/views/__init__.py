"""Pages of the work log. Each view parses input, calls one service or selector, and renders."""

from apps.worklog.views.entries import (
    entry_create,
    entry_delete,
    entry_detail,
    entry_edit,
    entry_restore,
    quick_add,
    suggest,
)
from apps.worklog.views.evidence import evidence_delete, evidence_file, evidence_link, evidence_upload
from apps.worklog.views.porting import (
    porting,
    porting_csv_template,
    porting_export,
    porting_import_cancel,
    porting_import_commit,
    porting_import_job,
    porting_import_preview,
    porting_import_skipped,
)
from apps.worklog.views.skills import skill_edit, skill_list, skill_merge, skill_rename
from apps.worklog.views.timeline import filter_names, timeline

__all__ = [
    "entry_create",
    "entry_delete",
    "entry_detail",
    "entry_edit",
    "entry_restore",
    "evidence_delete",
    "evidence_file",
    "evidence_link",
    "evidence_upload",
    "filter_names",
    "porting",
    "porting_csv_template",
    "porting_export",
    "porting_import_cancel",
    "porting_import_commit",
    "porting_import_job",
    "porting_import_preview",
    "porting_import_skipped",
    "quick_add",
    "skill_edit",
    "skill_list",
    "skill_merge",
    "skill_rename",
    "suggest",
    "timeline",
]
