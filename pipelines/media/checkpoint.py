"""Build an openai-whisper checkpoint (``.pt``) from a CTranslate2 Whisper model directory.

The reference engine (openai-whisper) reads its own checkpoint format, and no such checkpoint of
the bundled model exists offline. The CTranslate2 ``model.bin`` holds the same tensors under other
names (and with the attention projections fused), so the checkpoint is rebuilt from it: same
weights, same model size, no download. Only float models (float32/float16/bfloat16) convert; an
int8-quantised directory has lost precision and is refused.

``model.bin`` layout (CTranslate2 spec version 6, little endian): u32 version, string name,
u32 revision, u32 count, then per variable: string name, u8 rank, u32 dims…, u8 dtype, u32 byte
count, data; then u32 alias count and (alias, target) string pairs. A string is a u16 length
(including a trailing NUL) and its bytes.
"""

from __future__ import annotations

import json
import os
import re
import struct
import tempfile
from pathlib import Path
from typing import IO, Any

import numpy as np

# CTranslate2 dtype codes → numpy (bfloat16 is read as raw 16-bit words and widened by hand)
_DTYPES: dict[int, Any] = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16, 5: "bfloat16"}


class CheckpointError(RuntimeError):
    """The model directory cannot be converted (message in Chinese, says why)."""


def _read(f: IO[bytes], fmt: str) -> Any:
    size = struct.calcsize(fmt)
    raw = f.read(size)
    if len(raw) != size:
        raise CheckpointError("model.bin 不完整（文件被截断）")
    return struct.unpack(fmt, raw)[0]


def _string(f: IO[bytes]) -> str:
    n = _read(f, "<H")
    return f.read(n).rstrip(b"\0").decode("utf-8")


def read_ct2(model_bin: Path) -> dict[str, np.ndarray]:
    """All variables of a CTranslate2 model.bin (aliases resolved), as numpy arrays."""
    out: dict[str, np.ndarray] = {}
    with model_bin.open("rb") as f:
        version = _read(f, "<I")
        if version < 5:
            raise CheckpointError(f"model.bin 版本 {version} 过旧，无法转换")
        name = _string(f)
        if name != "WhisperSpec":
            raise CheckpointError(f"不是 Whisper 模型（{name}）")
        _read(f, "<I")  # spec revision
        for _ in range(_read(f, "<I")):
            var = _string(f)
            rank = _read(f, "<B")
            dims = [_read(f, "<I") for _ in range(rank)]
            code = _read(f, "<B")
            nbytes = _read(f, "<I")
            raw = f.read(nbytes)
            if len(raw) != nbytes:
                raise CheckpointError("model.bin 不完整（文件被截断）")
            dtype = _DTYPES.get(code)
            if dtype is None:
                raise CheckpointError(f"model.bin 中有未知的数据类型 {code}")
            if dtype == "bfloat16":
                words = np.frombuffer(raw, np.uint16).astype(np.uint32) << 16
                array = words.view(np.float32)
            else:
                array = np.frombuffer(raw, dtype)
            out[var] = array.reshape(dims) if dims else array.reshape(())
        if version >= 2:
            for _ in range(_read(f, "<I")):
                alias, target = _string(f), _string(f)
                out[alias] = out[target]
    return out


def _dims(v: dict[str, np.ndarray]) -> dict[str, int]:
    def layers(side: str) -> int:
        return len({m.group(1) for k in v if (m := re.match(rf"{side}/layer_(\d+)/", k))})

    conv1 = v["encoder/conv1/weight"]
    return {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(v["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": layers("encoder"),
        "n_vocab": int(v["decoder/embeddings/weight"].shape[0]),
        "n_text_ctx": int(v["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(v["decoder/embeddings/weight"].shape[1]),
        "n_text_head": int(v["decoder/num_heads"]),
        "n_text_layer": layers("decoder"),
    }


def _state_dict(v: dict[str, np.ndarray], dims: dict[str, int]) -> dict[str, np.ndarray]:
    """openai-whisper parameter name → tensor data."""
    sd: dict[str, np.ndarray] = {}

    def norm(dst: str, src: str) -> None:
        sd[f"{dst}.weight"], sd[f"{dst}.bias"] = v[f"{src}/gamma"], v[f"{src}/beta"]

    def linear(dst: str, src: str, bias: bool = True) -> None:
        sd[f"{dst}.weight"] = v[f"{src}/weight"]
        if bias:
            sd[f"{dst}.bias"] = v[f"{src}/bias"]

    def fused(dst: str, src: str, names: tuple[str, ...]) -> None:
        # CTranslate2 stacks query/key/value (or key/value) row-wise in one projection;
        # openai-whisper's key projection has no bias (CTranslate2 stores zeros there).
        weights = np.split(v[f"{src}/weight"], len(names))
        biases = np.split(v[f"{src}/bias"], len(names))
        for name, w, b in zip(names, weights, biases, strict=True):
            sd[f"{dst}.{name}.weight"] = w
            if name != "key":
                sd[f"{dst}.{name}.bias"] = b

    def block(dst: str, src: str, cross: bool) -> None:
        fused(f"{dst}.attn", f"{src}/self_attention/linear_0", ("query", "key", "value"))
        linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
        norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        if cross:
            linear(f"{dst}.cross_attn.query", f"{src}/attention/linear_0")
            fused(f"{dst}.cross_attn", f"{src}/attention/linear_1", ("key", "value"))
            linear(f"{dst}.cross_attn.out", f"{src}/attention/linear_2")
            norm(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
        linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
        linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")
        norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")

    for part in ("conv1", "conv2"):
        linear(f"encoder.{part}", f"encoder/{part}")
    sd["encoder.positional_embedding"] = v["encoder/position_encodings/encodings"]
    for i in range(dims["n_audio_layer"]):
        block(f"encoder.blocks.{i}", f"encoder/layer_{i}", cross=False)
    norm("encoder.ln_post", "encoder/layer_norm")
    sd["decoder.token_embedding.weight"] = v["decoder/embeddings/weight"]
    sd["decoder.positional_embedding"] = v["decoder/position_encodings/encodings"]
    for i in range(dims["n_text_layer"]):
        block(f"decoder.blocks.{i}", f"decoder/layer_{i}", cross=True)
    norm("decoder.ln", "decoder/layer_norm")
    return sd


def build_openai_checkpoint(model_dir: Path, out: Path) -> Path:
    """Write ``out`` (an openai-whisper checkpoint) from the CTranslate2 model in ``model_dir``.

    The checkpoint holds ``dims``, ``model_state_dict`` (float16, like OpenAI's own) and the
    model's ``alignment_heads`` (from config.json, for word timestamps). Written to a temporary
    file and renamed, so a crash never leaves a half checkpoint behind.
    """
    try:
        import torch
    except ModuleNotFoundError as exc:
        raise CheckpointError("未安装 openai-whisper 引擎（make install-openai）") from exc
    model_bin = model_dir / "model.bin"
    if not model_bin.is_file():
        raise CheckpointError(f"模型目录 {model_dir} 中没有 model.bin")
    v = read_ct2(model_bin)
    quantised = [k for k, a in v.items() if k.endswith("/weight") and a.dtype not in (np.float32, np.float16)]
    if quantised or any(k.endswith("weight_scale") for k in v):
        raise CheckpointError("模型已量化（int8 等），无法还原为 openai-whisper 检查点；请使用浮点模型")
    try:
        dims = _dims(v)
        state = {k: torch.from_numpy(a.astype(np.float16)) for k, a in _state_dict(v, dims).items()}
    except KeyError as exc:
        raise CheckpointError(f"模型缺少变量 {exc.args[0]}，无法转换") from exc
    heads: list[list[int]] = []
    config = model_dir / "config.json"
    if config.is_file():
        pairs = json.loads(config.read_text()).get("alignment_heads", [])
        heads = [[int(layer), int(head)] for layer, head in pairs]
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".checkpoint-", suffix=".pt", dir=out.parent)
    os.close(fd)
    try:
        torch.save({"dims": dims, "model_state_dict": state, "alignment_heads": heads}, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return out
