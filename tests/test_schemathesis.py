"""Property-based API test: schemathesis generates requests from the app's own OpenAPI spec
(valid and edge-case parameters and bodies) for every operation, signed in as each role with a
bearer token; no request may end in a server error (5xx)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from pipelines.demo import DEMO_PASSWORD
from tests.support.access import build

pytestmark = pytest.mark.slow
EXAMPLES = 25  # per operation and role
SKIP = {("DELETE", "/api/v1/auth/token")}  # would revoke the token the rest of the run signs in with


def test_no_operation_answers_with_a_server_error(tmp_path_factory: pytest.TempPathFactory) -> None:
    arc = build(tmp_path_factory.mktemp("schemathesis"))
    tokens: dict[str, str] = {}
    with TestClient(arc.app) as c:
        for role in ["demo", "archivist", "leader", "party"]:
            r = c.post("/api/v1/auth/token", json={"username": role, "password": DEMO_PASSWORD})
            assert r.status_code == 201, r.text
            tokens[role] = r.json()["token"]
    # the description itself is behind sign-in
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", arc.app, headers={"Authorization": f"Bearer {tokens['demo']}"}
    )
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 40
    calls: Counter[int] = Counter()
    failures: list[str] = []
    for role, token in [*tokens.items(), ("anonymous", "")]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for op in operations:
            if (op.method.upper(), op.path) not in SKIP:
                _fuzz(op, role, headers, calls, failures)
    total = sum(calls.values())
    report = Path(arc.svc.settings.data_dir) / "schemathesis.txt"
    codes = dict(sorted(calls.items()))
    report.write_text(f"{total} cases; status codes: {codes}\n", encoding="utf-8")
    print(f"schemathesis: {total} cases over {len(operations)} operations × 5 roles; status codes {codes}")
    assert not failures, failures[:20]
    assert total > 1000


def _fuzz(
    op: schemathesis.APIOperation,
    role: str,
    headers: dict[str, str],
    calls: Counter[int],
    failures: list[str],
) -> None:
    @given(case=op.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call(headers=headers)
        calls[response.status_code] += 1
        if response.status_code >= 500:
            failures.append(f"{role} {case.method} {case.formatted_path} → {response.status_code}")

    run()
