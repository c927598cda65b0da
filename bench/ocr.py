"""OCR quality and speed on generated A4 pages of dense Chinese text, clean and noisy
(blur, skew, speckles, JPEG artefacts): character error rate and seconds per page for our
engine and, in the same run, for Tesseract chi_sim when it is installed.

    .venv/bin/python bench/ocr.py [--pages 20]

The last line is one JSON object: {"cer": {"clean", "noisy"}, "s_per_page", "tesseract": {…} or null}.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.settings import Settings  # noqa: E402
from pipelines.ocr import RapidOcrEngine, get_ocr  # noqa: E402
from pipelines.samples import FINDINGS  # noqa: E402
from tests.support import documents as d  # noqa: E402
from tests.support.metrics import cer  # noqa: E402

SENTENCES = [
    *FINDINGS,
    "经查，当事人未按规定对重大危险源进行登记建档",
    "执法人员出示执法证件并告知当事人享有陈述申辩的权利",
    "现场检查时使用执法记录仪全程录像，录像资料已存储",
    "依据《中华人民共和国安全生产法》第一百零一条规定",
    "责令当事人于二〇二六年十一月三十日前整改完毕",
    "当事人对检查结果无异议，并在现场检查记录上签字确认",
    "先行登记保存证据清单载明物品名称、规格、数量和存放地点",
    "送达人将行政处罚决定书留置于受送达人住所并拍照记录",
]
LINE_CHARS, LINES, POINTS = 38, 36, 12  # a dense 12 pt page, ~1,370 characters


# Engine settings compared with today's on the same pages (--configs): detection on a page
# scaled so its longer side is N pixels (today: the page as rendered, up to 2,000 pixels).
# Each entry: the runtime that runs the models and RapidOCR settings.
DET_1280: dict[str, object] = {"Det.limit_type": "max", "Det.limit_side_len": 1280}
CONFIGS: dict[str, tuple[str, dict[str, object]]] = {
    "OpenVINO runtime (same models)": ("openvino", {}),
    "OpenVINO, detection at 1280 px": ("openvino", DET_1280),
    "detection at 1600 px (longer side)": (
        "onnxruntime",
        {"Det.limit_type": "max", "Det.limit_side_len": 1600},
    ),
    "detection at 1280 px (longer side)": ("onnxruntime", DET_1280),
    "detection at 960 px (longer side)": (
        "onnxruntime",
        {"Det.limit_type": "max", "Det.limit_side_len": 960},
    ),
    "detection at 1280 px, 32 lines per batch": ("onnxruntime", DET_1280 | {"Rec.rec_batch_num": 32}),
}


def page_text(rng: random.Random) -> list[str]:
    """About 1,200 characters of plausible enforcement prose, cut into page lines."""
    text = ""
    while len(text) < LINE_CHARS * LINES:
        text += rng.choice(SENTENCES) + "；"
    return d.wrap(text[: LINE_CHARS * LINES], LINE_CHARS)


def tesseract_text(image_path: Path) -> str | None:
    if not shutil.which("tesseract"):
        return None
    langs = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout
    if "chi_sim" not in langs:
        return None
    out = subprocess.run(
        ["tesseract", str(image_path), "stdout", "-l", "chi_sim", "--psm", "6"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pages", type=int, default=20, help="pages in all, half clean and half noisy")
    ap.add_argument("--configs", action="store_true", help="also run other engine settings on the same pages")
    args = ap.parse_args()
    dpi = Settings().parsing.ocr_dpi
    rng = random.Random(2026)
    engine = get_ocr()
    runtimes = {"onnxruntime"} | ({"openvino"} if importlib.util.find_spec("openvino") else set())
    others = {
        name: RapidOcrEngine(params, runtime=runtime)
        for name, (runtime, params) in CONFIGS.items()
        if args.configs and runtime in runtimes
    }
    # Models load on first use: read one short page with each engine before timing any.
    warm = d.render_text_image(["现场检查记录"], scale=dpi / 72, size=POINTS)
    for each in (engine, *others.values()):
        each.recognize(warm)
    same: dict[str, int] = dict.fromkeys(others, 0)  # pages read exactly as today's settings read them
    tried: dict[str, dict[str, list[tuple[float, float]]]] = {n: {"clean": [], "noisy": []} for n in others}
    ours: dict[str, list[tuple[float, float]]] = {"clean": [], "noisy": []}
    tess: dict[str, list[tuple[float, float]]] = {"clean": [], "noisy": []}
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        for i in range(args.pages):
            kind = "clean" if i % 2 == 0 else "noisy"
            lines = page_text(rng)
            image = d.render_text_image(lines, scale=dpi / 72, size=POINTS)
            if kind == "noisy":
                image = d.noisy(image, seed=i)
            path = Path(tmp) / f"page{i}.png"
            image.save(path)
            t0 = time.perf_counter()
            got = engine.recognize(image).text
            ours[kind].append((cer("".join(lines), got), time.perf_counter() - t0))
            for name, other_engine in others.items():
                t0 = time.perf_counter()
                text = other_engine.recognize(image).text
                tried[name][kind].append((cer("".join(lines), text), time.perf_counter() - t0))
                same[name] += text == got
            t0 = time.perf_counter()
            tt = tesseract_text(path)
            if tt is not None:
                tess[kind].append((cer("".join(lines), tt), time.perf_counter() - t0))
            print(
                f"page {i + 1:2d} {kind}: ours CER {ours[kind][-1][0]:.2%} in {ours[kind][-1][1]:.1f} s"
                + (
                    f"; tesseract CER {tess[kind][-1][0]:.2%} in {tess[kind][-1][1]:.1f} s"
                    if tt is not None
                    else ""
                ),
                file=sys.stderr,
            )

    def summary(results: dict[str, list[tuple[float, float]]]) -> dict[str, Any] | None:
        every = results["clean"] + results["noisy"]
        if not every:
            return None
        return {
            "cer": {k: round(sum(c for c, _ in v) / len(v), 4) for k, v in results.items() if v},
            "s_per_page": round(sum(s for _, s in every) / len(every), 2),
        }

    mine = summary(ours)
    assert mine is not None
    configs: dict[str, Any] = {}
    for name, results in tried.items():
        s = summary(results)
        assert s is not None
        configs[name] = s | {"same_text_pages": same[name]}
        print(
            f"  {name:44s} CER clean {s['cer']['clean']:.2%}, noisy {s['cer']['noisy']:.2%}, "
            f"{s['s_per_page']} s/page (today's settings: {mine['s_per_page']} s/page), "
            f"{same[name]}/{args.pages} pages read the same",
            file=sys.stderr,
        )
    if args.configs and "openvino" not in runtimes:
        print("  OpenVINO: not installed (pip install '.[openvino]' to compare)", file=sys.stderr)
    other = summary(tess)
    print(
        f"ours ({engine.name}, {dpi} dpi, {os.cpu_count()} cores): CER clean {mine['cer']['clean']:.2%}, "
        f"noisy {mine['cer']['noisy']:.2%}, {mine['s_per_page']} s/page",
        file=sys.stderr,
    )
    if other:
        print(
            f"tesseract chi_sim --psm 6: CER clean {other['cer']['clean']:.2%}, "
            f"noisy {other['cer']['noisy']:.2%}, {other['s_per_page']} s/page",
            file=sys.stderr,
        )
    else:
        print(
            "tesseract chi_sim: not installed (apt install tesseract-ocr-chi-sim to compare)", file=sys.stderr
        )
    print(
        json.dumps(
            {
                "cer": mine["cer"],
                "s_per_page": mine["s_per_page"],
                "engine": engine.name,
                "dpi": dpi,
                "pages": args.pages,
                "cores": os.cpu_count(),
                "tesseract": other,
                "configs": configs or None,
            }
        )
    )


if __name__ == "__main__":
    main()
