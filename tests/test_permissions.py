"""One permission table: every action has its roles there, no other module writes out a set of
roles, and the page shows a step only to the roles the server lets take it."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest

from archive.models import Role
from archive.permissions import ROLES_FOR, Action, actions_of, may
from pipelines.demo import ENDED_CASE_NO
from tests.support.access import Archive, build, signed_in

ROOT = Path(__file__).resolve().parents[1]
ROLE_SET = re.compile(r"Role\.[A-Z_]+\s*,\s*Role\.[A-Z_]+")


def test_every_action_has_its_roles_in_the_table() -> None:
    assert set(ROLES_FOR) == set(Action)
    assert all(ROLES_FOR[a] for a in Action)
    assert actions_of(Role.PARTY) == {Action.REQUEST_ACCESS}
    assert may(Role.ARCHIVIST, Action.FILE_CASE) and not may(Role.LEADER, Action.FILE_CASE)


def test_no_module_but_the_table_writes_out_a_set_of_roles() -> None:
    found = []
    for package in ("archive", "pipelines", "indexer", "search_api", "ui"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "permissions.py" or "migrations" in path.parts:
                continue
            lines = enumerate(path.read_text().splitlines(), 1)
            found += [f"{path.relative_to(ROOT)}:{n}" for n, line in lines if ROLE_SET.search(line)]
    templates = [
        f"{p.name}:{n}"
        for p in (ROOT / "ui" / "templates").glob("*.html")
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if "role.value ==" in line or "role.value in" in line
    ]
    assert (found, templates) == ([], [])


@pytest.fixture(scope="module")
def arc(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return build(tmp_path_factory.mktemp("permissions"))


def test_filing_is_offered_to_whom_the_server_lets_file(arc: Archive) -> None:
    url = f"/cases/{quote(ENDED_CASE_NO)}/dossier"
    body = {"retention": "30年", "archivist": "王志刚"}
    with signed_in(arc.app, ["leader", "archivist"]) as c:
        leader, archivist = c["leader"], c["archivist"]
        assert "归档并冻结" not in leader.get(url).text  # the 负责人 reads the dossier, files nothing
        assert "归档并冻结" in archivist.get(url).text
        assert leader.post(f"/api/v1/cases/{quote(ENDED_CASE_NO)}/dossier", json=body).status_code == 403
        form = body | {"csrf": leader.headers["X-CSRF-Token"], "confirm": "true"}
        assert leader.post(url, data=form, follow_redirects=False).status_code == 403


@pytest.mark.parametrize(
    ("role", "links"),
    [
        ("demo", {"/cases"}),
        ("archivist", {"/cases", "/archiving", "/requests"}),
        ("leader", {"/cases", "/archiving", "/requests", "/audit"}),
        ("admin", {"/cases", "/archiving", "/requests", "/audit", "/admin/users"}),
        ("party", {"/portal"}),
    ],
)
def test_the_menu_follows_the_table(arc: Archive, role: str, links: set[str]) -> None:
    menu = {"/cases", "/archiving", "/requests", "/audit", "/admin/users", "/portal"}
    with signed_in(arc.app, [role]) as c:
        page = c[role].get("/search").text
        nav = page.split("<nav", 1)[1].split("</nav>", 1)[0]
        assert {href for href in menu if f'href="{href}"' in nav} == links
        for href in sorted(menu - links - {"/portal", "/cases"}):  # what is not shown is refused
            assert c[role].get(href, follow_redirects=False).status_code == 403, href
