"""A dossier handed over as a folder of files, one file per 件, with its catalog spreadsheet.

Each file is matched to its catalog row by the 序号 its name starts with ("01 立案审批表.pdf",
"3-询问笔录.docx", "第4件 送达回证.jpg"); when the names carry no numbers, by name order, if
there are as many files as rows. Each file is kept as it is (its own original; no scan to cut).
A folder of page images without such a match is one scan instead (``source.as_pdf``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pipelines.legacy.catalog import CatalogRow
from pipelines.legacy.source import IMAGE_SUFFIXES, PDFIUM, natural_key

CATALOG_SUFFIXES = {".xlsx", ".xlsm", ".csv"}
_NUMBERED = re.compile(r"^\s*(?:第\s*)?0*(\d{1,3})\s*(?:件)?(?:[\s._\-—、，,）)]|$)")


class FolderError(ValueError):
    """The folder's files cannot be matched to the catalog (message in Chinese)."""


def documents(folder: Path, catalog: Path | None = None) -> list[Path]:
    """The folder's files other than the catalog spreadsheet and hidden files, in name order."""
    skip = catalog.resolve() if catalog is not None else None
    return sorted(
        (
            p
            for p in folder.iterdir()
            if p.is_file()
            and not p.name.startswith((".", "~$"))
            and p.resolve() != skip
            and p.suffix.lower() not in CATALOG_SUFFIXES
        ),
        key=lambda p: natural_key(p.name),
    )


def catalog_in(folder: Path) -> Path | None:
    """The catalog spreadsheet lying in the folder, if there is exactly one."""
    found = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in CATALOG_SUFFIXES]
    if len(found) > 1:
        names = "、".join(sorted(p.name for p in found))
        raise FolderError(f"文件夹中有多个目录表格（{names}）：请用 --catalog 指定其中一个")
    return found[0] if found else None


def is_file_dossier(folder: Path, catalog: Path | None) -> bool:
    """One file per 件 (not the page images of one scan): a catalog is there and either a file is
    no image, or the files are numbered like the catalog's rows."""
    if catalog is None:
        return False
    files = documents(folder, catalog)
    if any(p.suffix.lower() not in IMAGE_SUFFIXES for p in files):
        return True
    return bool(files) and all(_NUMBERED.match(p.stem) for p in files)


@dataclass(frozen=True)
class Matched:
    """Each catalog row with its file, and what the archivist should know about the match."""

    pairs: list[tuple[CatalogRow, Path]]
    notes: list[str]


def match(rows: list[CatalogRow], files: list[Path]) -> Matched:
    """Each row's file: by the 序号 the file name starts with, else by order (FolderError when
    neither gives every row exactly one file)."""
    if not files:
        raise FolderError("文件夹中没有文件")
    numbered: dict[int, Path] = {}
    for f in files:
        m = _NUMBERED.match(f.stem)
        if m is None:
            numbered = {}
            break
        n = int(m.group(1))
        if n in numbered:
            raise FolderError(f"文件 {numbered[n].name} 和 {f.name} 的序号都是 {n}")
        numbered[n] = f
    notes: list[str] = []
    if numbered:
        missing = [r for r in rows if r.seq not in numbered]
        if missing:
            names = "、".join(f"第 {r.seq} 件“{r.title[:20]}”" for r in missing[:5])
            raise FolderError(f"{names}没有对应的文件（文件名应以序号开头，如 01-立案审批表.pdf）")
        extra = sorted(set(numbered) - {r.seq for r in rows})
        if extra:
            names = "、".join(numbered[n].name for n in extra)
            notes.append(f"文件 {names} 的序号不在卷内目录中，不导入")
        return Matched([(r, numbered[r.seq]) for r in rows], notes)
    if len(files) != len(rows):
        raise FolderError(
            f"文件夹中有 {len(files)} 个文件，卷内目录有 {len(rows)} 行：请让文件名以序号开头"
            "（如 01-立案审批表.pdf），以便与目录逐行对应"
        )
    notes.append("文件名不带序号：按文件名顺序与卷内目录逐行对应，请核对")
    return Matched(list(zip(rows, files, strict=True)), notes)


def page_count(path: Path) -> int | None:
    """Pages of a PDF (None for other files: their pages are counted when they are read)."""
    if path.suffix.lower() != ".pdf":
        return None
    import pypdfium2 as pdfium

    with PDFIUM:
        try:
            pdf = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError:
            return None
        try:
            return len(pdf)
        finally:
            pdf.close()
