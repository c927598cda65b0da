"""Who may do what: one table from each action to the roles that may take it.

Route dependencies (search_api.deps.allowed_to), services, pages and templates (``can``) all read
this table; no other module writes out a set of roles. Whether a user may act on a particular
case or record (assignment, grant, 密级) is decided by archive.access on top of this.
"""

from __future__ import annotations

import enum

from archive.models import Role

OFFICER, ARCHIVIST, LEADER, LEGAL, ADMIN, PARTY = (
    Role.OFFICER,
    Role.ARCHIVIST,
    Role.LEADER,
    Role.LEGAL_REVIEWER,
    Role.ADMIN,
    Role.PARTY,
)
STAFF = frozenset(r for r in Role if r is not Role.PARTY)
EDITORS = frozenset({OFFICER, ARCHIVIST, LEADER, ADMIN})
OVERSEERS = frozenset({ARCHIVIST, LEADER, ADMIN})


class Action(enum.StrEnum):
    """Something a user does; the value is how the audit view and docs name it."""

    USE_STAFF_PAGES = "use_staff_pages"  # search, cases, records of one's reach
    SEE_EVERY_CASE = "see_every_case"  # without an assignment
    UPLOAD = "upload"  # add records to a case, correct a transcript, re-run processing
    EDIT_RECORD = "edit_record"  # 第二十六条 fields and 密级 (raising it)
    LOWER_CLASSIFICATION = "lower_classification"
    DELETE_RECORD = "delete_record"
    REPAIR_FILES = "repair_files"  # derived files made again from the originals
    SEE_SYSTEM = "see_system"  # the archive's health: jobs, queue, index, fixity, disk
    RECORD_ACTIVITY = "record_activity"  # a case event (执法活动: 立案, 询问, 送达 …)
    ASSIGN_OFFICER = "assign_officer"
    LINK_PARTY = "link_party"  # a party account to a 当事人, a witness to a case
    SEE_OVERSIGHT = "see_oversight"  # compliance, archiving deadlines, failed jobs, request queue
    FILE_CASE = "file_case"  # 立卷归档
    IMPORT_DOSSIER = "import_dossier"  # a closed paper dossier: upload, review, confirm
    READ_DOSSIER = "read_dossier"  # catalog preview, BagIt export
    EDIT_SPANS = "edit_spans"  # mark, dismiss, restore sensitive spans
    REVIEW_REQUEST = "review_request"  # scope and release mode of a party's request
    DECIDE_REQUEST = "decide_request"  # approve or deny (负责人)
    REVOKE_GRANT = "revoke_grant"
    REQUEST_ACCESS = "request_access"  # a party asks, withdraws, reads what was granted
    READ_AUDIT = "read_audit"
    MANAGE_USERS = "manage_users"


ROLES_FOR: dict[Action, frozenset[Role]] = {
    Action.USE_STAFF_PAGES: STAFF,
    Action.SEE_EVERY_CASE: frozenset({ARCHIVIST, LEADER, LEGAL, ADMIN}),
    Action.UPLOAD: EDITORS,
    Action.EDIT_RECORD: EDITORS,
    Action.LOWER_CLASSIFICATION: frozenset({LEADER}),
    Action.DELETE_RECORD: frozenset({ARCHIVIST, ADMIN}),
    Action.REPAIR_FILES: frozenset({ARCHIVIST, ADMIN}),
    Action.SEE_SYSTEM: frozenset({ARCHIVIST, ADMIN}),
    Action.RECORD_ACTIVITY: EDITORS,
    Action.ASSIGN_OFFICER: OVERSEERS,
    Action.LINK_PARTY: frozenset({OFFICER, ARCHIVIST}),
    Action.SEE_OVERSIGHT: OVERSEERS,
    Action.FILE_CASE: frozenset({ARCHIVIST}),
    Action.IMPORT_DOSSIER: frozenset({ARCHIVIST}),
    Action.READ_DOSSIER: OVERSEERS,
    Action.EDIT_SPANS: frozenset({ARCHIVIST}),
    Action.REVIEW_REQUEST: frozenset({ARCHIVIST}),
    Action.DECIDE_REQUEST: frozenset({LEADER}),
    Action.REVOKE_GRANT: frozenset({LEADER, ARCHIVIST}),
    Action.REQUEST_ACCESS: frozenset({PARTY}),
    Action.READ_AUDIT: frozenset({LEADER, ADMIN}),
    Action.MANAGE_USERS: frozenset({ADMIN}),
}


# The server's own operator (the `archive` command, run by whoever holds the data directory)
# and the system's own processes: not a user role, and no account can have it.
SYSTEM_ROLE = "系统"


def may(role: Role | str, action: Action) -> bool:
    """Whether ``role`` may take ``action``."""
    return role == SYSTEM_ROLE or role in ROLES_FOR[action]


def actions_of(role: Role) -> frozenset[Action]:
    """Every action ``role`` may take (for templates: ``can('upload')``)."""
    return frozenset(a for a, roles in ROLES_FOR.items() if role in roles)
