"""Cases and their steps: who works on a case, its people, its dated steps, its filing.

Every function takes the acting user and their reach, checks the permission table, does the
work and writes the one audit event of the action (`search_api.services`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from archive import audit
from archive.access import AccessError, assign, link_party
from archive.actor import Actor
from archive.cases import CaseNotFoundError
from archive.db import session_scope
from archive.models import Dossier, EventKind, Record, Retention, Witness
from archive.permissions import Action
from indexer.documents import AccessFilter
from pipelines import dossier
from pipelines.compliance import add_event
from pipelines.context import Services
from pipelines.sensitive import detect_spans
from search_api.services import NO_CASE, Conflict, NotFound, ServiceError, case_in_reach, require


def _text(value: str, label: str, least: int, most: int) -> str:
    """A form field stripped and within its length, else a ServiceError naming it."""
    value = value.strip()
    if len(value) < least:
        raise ServiceError(f"{label}至少 {least} 个字" if least > 1 else f"请填写{label}")
    if len(value) > most:
        raise ServiceError(f"{label}过长（至多 {most} 个字）")
    return value


def assign_officer(svc: Services, who: Actor, reach: AccessFilter, case_no: str, username: str) -> None:
    """指派执法人员: the officer sees the case from then on (audited ``assign``)."""
    require(who, Action.ASSIGN_OFFICER)
    username = _text(username, "用户名", 1, 64)
    try:
        with session_scope(svc.engine) as s:
            case_in_reach(s, case_no, reach)
            assign(session=s, case_no=case_no, username=username, by=who.shown_name)
    except AccessError as exc:
        raise ServiceError(str(exc)) from None
    audit.record(svc.engine, "assign", who, f"case:{case_no}", officer=username)


def link_party_account(
    svc: Services,
    who: Actor,
    reach: AccessFilter,
    case_no: str,
    username: str,
    party_name: str,
    id_checked: str,
) -> None:
    """关联当事人账号, after the officer checked their ID in person (audited ``party_link``)."""
    require(who, Action.LINK_PARTY)
    username = _text(username, "用户名", 1, 64)
    party_name = _text(party_name, "当事人名称", 1, 255)
    id_checked = _text(id_checked, "身份核验方式", 2, 255)
    try:
        with session_scope(svc.engine) as s:
            case_in_reach(s, case_no, reach)
            link_party(
                session=s,
                username=username,
                case_no=case_no,
                party_name=party_name,
                id_checked=id_checked,
                by=who.shown_name,
            )
    except AccessError as exc:
        raise ServiceError(str(exc)) from None
    audit.record(svc.engine, "party_link", who, f"case:{case_no}", account=username, id_checked=id_checked)


def add_witness(
    svc: Services, who: Actor, reach: AccessFilter, case_no: str, name: str, relation: str = "证人"
) -> None:
    """登记证人: their name is hidden from parties; the case's spans are detected again (audited)."""
    require(who, Action.LINK_PARTY)
    name = _text(name, "姓名", 2, 64)
    relation = relation.strip()[:32]
    with session_scope(svc.engine) as s:
        case = case_in_reach(s, case_no, reach)
        s.add(Witness(case_id=case.id, name=name, relation=relation or "证人"))
        record_ids = list(s.scalars(select(Record.id).where(Record.case_id == case.id)))
    for rid in record_ids:
        detect_spans(svc, rid)
    audit.record(svc.engine, "edit", who, f"case:{case_no}", witness_added=True)


def record_activity(
    svc: Services,
    who: Actor,
    reach: AccessFilter,
    case_no: str,
    kind: EventKind,
    occurred_at: datetime,
    *,
    note: str | None = None,
    av_exempt: bool = False,
) -> int:
    """记录执法活动 (立案, 询问, 送达, 执行终结 …); returns the step's id (audited ``event_add``)."""
    require(who, Action.RECORD_ACTIVITY)
    with session_scope(svc.engine) as s:
        case_in_reach(s, case_no, reach)
    try:
        return add_event(svc, case_no, kind, occurred_at, actor=who, note=note, av_exempt=av_exempt)
    except CaseNotFoundError:
        raise NotFound(NO_CASE) from None
    except PermissionError as exc:
        raise Conflict(str(exc)) from None
    except ValueError as exc:
        raise ServiceError(str(exc)) from None


def file_case(
    svc: Services,
    who: Actor,
    reach: AccessFilter,
    case_no: str,
    retention: Retention,
    archivist: str,
    filed_by: str | None = None,
) -> Dossier:
    """归档: number the pieces, store the catalog, lock the originals, freeze the case (audited
    ``dossier_file``). ``filed_by`` defaults to the actor's name."""
    require(who, Action.FILE_CASE)
    with session_scope(svc.engine) as s:
        case_in_reach(s, case_no, reach)
    by = filed_by or who.shown_name
    try:
        d = dossier.file_case(svc, case_no, retention=retention, archivist=archivist, filed_by=by)
    except CaseNotFoundError:
        raise NotFound(NO_CASE) from None
    except dossier.DossierError as exc:
        raise Conflict(str(exc)) from None
    audit.record(
        svc.engine,
        "dossier_file",
        who,
        f"case:{case_no}",
        retention=d.retention.value,
        pieces=d.pieces,
        archivist=d.archivist,
        filed_by=by,
    )
    return d


def export_dossier(svc: Services, who: Actor, reach: AccessFilter, case_no: str, dest: Path) -> Path:
    """A filed case as a BagIt bag at ``dest`` (a new directory): originals, derived text,
    metadata, catalog, audit trail, SHA-256 manifests (audited ``export``)."""
    require(who, Action.READ_DOSSIER)
    with session_scope(svc.engine) as s:
        case_in_reach(s, case_no, reach)
    try:
        bag = dossier.export_bag(svc, case_no, dest)
    except CaseNotFoundError:
        raise NotFound(NO_CASE) from None
    except dossier.DossierError as exc:
        raise Conflict(str(exc)) from None
    audit.record(svc.engine, "export", who, f"case:{case_no}", bag=dest.name)
    return bag
