"""Accounts: argon2 hashes, `archive user add`, the demo account only in dev."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import select

from archive.db import get_engine, session_scope
from archive.models import Role, User
from archive.settings import Settings
from archive.users import authenticate
from tests.conftest import BIN, REPO, cli_env, run_cli


def _add(data: Path, *args: str, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "archive"), "user", "add", *args, "--password-stdin"],
        input=password + "\n",
        env=cli_env(data),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_user_add_stores_an_argon2_hash_and_authenticates(tmp_path: Path) -> None:
    data = tmp_path / "var"
    r = _add(data, "zhouxm", "--name", "周晓梅", "--role", "档案管理员", password="正确的密码-2026")
    assert r.returncode == 0, r.stderr
    engine = get_engine(Settings(data_dir=data).db_url)
    with session_scope(engine) as s:
        user = s.scalars(select(User).where(User.username == "zhouxm")).one()
        assert user.role is Role.ARCHIVIST and user.display_name == "周晓梅"
        assert user.password_hash is not None and user.password_hash.startswith("$argon2")
        assert "正确的密码" not in user.password_hash
        assert authenticate(session=s, username="zhouxm", password="正确的密码-2026") is not None
        assert authenticate(session=s, username="zhouxm", password="错误的密码-2026") is None
        assert authenticate(session=s, username="nobody", password="正确的密码-2026") is None
        user.is_active = False
    with session_scope(engine) as s:
        assert authenticate(session=s, username="zhouxm", password="正确的密码-2026") is None


def test_user_add_refuses_bad_input(tmp_path: Path) -> None:
    data = tmp_path / "var"
    assert _add(data, "a", "--name", "甲", "--role", "执法人员", password="long-enough-1").returncode == 0
    dup = _add(data, "a", "--name", "甲", "--role", "执法人员", password="long-enough-1")
    assert dup.returncode == 2 and "用户名已存在" in dup.stderr
    short = _add(data, "b", "--name", "乙", "--role", "执法人员", password="short")
    assert short.returncode == 2 and "密码至少" in short.stderr
    role = _add(data, "c", "--name", "丙", "--role", "局长", password="long-enough-1")
    assert role.returncode == 2 and "未知角色" in role.stderr


def test_demo_account_only_in_the_dev_profile(tmp_path: Path) -> None:
    data = tmp_path / "var"
    prod = run_cli(["demo"], data, ARCHIVE_PROFILE="prod", ARCHIVE_SECRET_KEY="k" * 40)
    assert prod.returncode == 2 and "开发配置" in prod.stderr
    dev = run_cli(["demo"], data)
    assert dev.returncode == 0 and "demo-2026" in dev.stderr
    missing_secret = run_cli(["search", "复议"], data, ARCHIVE_PROFILE="prod")
    assert missing_secret.returncode == 2 and "ARCHIVE_SECRET_KEY" in missing_secret.stderr
