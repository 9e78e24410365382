"""Writes for the work log: entries, their reference data (employers, projects, skills, tags) and evidence.

Every function is keyword-only, runs in one transaction and raises `ValidationFailed` with a message a
person can act on. Reference data is matched case-insensitively and created on first use; the unique
constraints in the database settle races (a losing insert re-reads the winner's row). Skills' counters
(`entry_count`, `last_used_on`) move in the same transaction as the change that moves them.

The package is split by subject; every name is importable from `apps.worklog.services` as before:

    common.py     limits (TITLE_MAX, ...), split_names, the person's today
    reference.py  employers, projects, skills (rename, merge), tags
    entries.py    entry create, update, delete, restore, purge, version restore, the date rule
    evidence.py   files and links
    counters.py   the skills' counters: moves, exact recount, check
"""

from apps.worklog.services.common import (
    BODY_MAX,
    EARLIEST_DATE,
    EVIDENCE_PER_ENTRY,
    FILES_PER_UPLOAD,
    FUTURE_SLACK,
    IMPACT_MAX,
    LINK_MAX,
    LOG_AHEAD_SLACK,
    METRIC_INTEGER_DIGITS,
    METRIC_LIMIT,
    METRIC_UNIT_MAX,
    NAME_MAX,
    PURGE_AFTER,
    SKILLS_PER_ENTRY,
    TAG_MAX,
    TAGS_PER_ENTRY,
    TITLE_MAX,
    _today_for,
    split_names,
)
from apps.worklog.services.counters import skill_counts_check, skill_counts_move, skill_counts_refresh
from apps.worklog.services.entries import (
    entry_create,
    entry_dates_check,
    entry_delete,
    entry_purge_deleted,
    entry_restore,
    entry_update,
    entry_version_restore,
)
from apps.worklog.services.evidence import (
    evidence_add_file,
    evidence_add_files,
    evidence_add_link,
    evidence_check_files,
    evidence_check_link,
    evidence_delete,
)
from apps.worklog.services.reference import (
    employer_get_or_create,
    project_get_or_create,
    skill_get_or_create,
    skill_merge,
    skill_rename,
    tag_get_or_create,
    tag_normalise,
)

__all__ = [
    "BODY_MAX",
    "EARLIEST_DATE",
    "EVIDENCE_PER_ENTRY",
    "FILES_PER_UPLOAD",
    "FUTURE_SLACK",
    "IMPACT_MAX",
    "LINK_MAX",
    "LOG_AHEAD_SLACK",
    "METRIC_INTEGER_DIGITS",
    "METRIC_LIMIT",
    "METRIC_UNIT_MAX",
    "NAME_MAX",
    "PURGE_AFTER",
    "SKILLS_PER_ENTRY",
    "TAGS_PER_ENTRY",
    "TAG_MAX",
    "TITLE_MAX",
    "_today_for",
    "employer_get_or_create",
    "entry_create",
    "entry_dates_check",
    "entry_delete",
    "entry_purge_deleted",
    "entry_restore",
    "entry_update",
    "entry_version_restore",
    "evidence_add_file",
    "evidence_add_files",
    "evidence_add_link",
    "evidence_check_files",
    "evidence_check_link",
    "evidence_delete",
    "project_get_or_create",
    "skill_counts_check",
    "skill_counts_move",
    "skill_counts_refresh",
    "skill_get_or_create",
    "skill_merge",
    "skill_rename",
    "split_names",
    "tag_get_or_create",
    "tag_normalise",
]
