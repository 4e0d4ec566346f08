"""A plan file a person brings (.txt, .docx, .pdf) → the plain text the parser reads.

* `.txt`: UTF-8 with or without BOM, else GBK/GB18030 (`plans.text.decode`, the seeds' rule).
* `.docx`: python-docx; the body's paragraphs and tables in document order, each table cell's
  paragraphs as lines (a 专栏 box is often a one-cell table), merged cells once.
* `.pdf`: pypdf. Chosen over pdfminer.six because it is pure Python with no dependencies of
  its own, is pinned already (the report tests read PDFs with it), and its `extract_text` keeps
  the reading order of the single-column pages plans are printed on; pdfminer.six's layout
  analysis (columns, text boxes) buys nothing for them and would bring a second PDF stack.
  The lines come hard-wrapped, as in the seed 003, which the parser joins by rule.

Every failure is a `PlanError` naming the file, Chinese first, English second: an unknown
suffix or encoding, a damaged or encrypted file, a .docx with tables only, a scanned PDF.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from plans.errors import PlanError
from plans.text import check_text, decode

__all__ = ["PLAN_SUFFIXES", "plan_text", "read_plan_bytes", "read_plan_file"]

PLAN_SUFFIXES = (".txt", ".docx", ".pdf")


def read_plan_file(path: str | Path) -> str:
    """The text of the plan file at `path` (see the module docstring for the formats)."""
    path = Path(path)
    return plan_text(read_plan_bytes(path), path.name, where=str(path))


def read_plan_bytes(path: str | Path) -> bytes:
    """The bytes of the file at `path`; PlanError naming it when it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise PlanError(
            str(path), f"无法读取文件 cannot read the file: {exc.strerror or exc}"
        ) from exc


def plan_text(data: bytes, name: str, where: str | None = None) -> str:
    """The text of a plan file's bytes; `name` (the file name) says its format, `where` is what
    errors name (default: `name`)."""
    where = where or name
    suffix = Path(name).suffix.lower()
    if suffix == ".txt":
        return _txt_text(data, where)
    if suffix == ".docx":
        return _docx_text(data, where)
    if suffix == ".pdf":
        return _pdf_text(data, where)
    raise PlanError(
        where,
        f"不支持的文件类型「{suffix or '无扩展名'}」，应为 {' / '.join(PLAN_SUFFIXES)} "
        f"unsupported file type '{suffix or 'no suffix'}': expected one of "
        f"{', '.join(PLAN_SUFFIXES)}",
    )


def _txt_text(data: bytes, where: str) -> str:
    try:
        return decode(data, where)
    except PlanError as exc:
        if exc.reason.startswith("undecodable"):
            raise PlanError(
                where, f"无法识别的编码（应为 UTF-8 或 GBK/GB18030） unknown encoding: {exc.reason}"
            ) from None
        raise PlanError(where, f"不是可读的纯文本 not readable plain text: {exc.reason}") from None


# -- .docx ------------------------------------------------------------------------------------
def _docx_text(data: bytes, where: str) -> str:
    import docx  # python-docx: only uploads of Word files need it
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise PlanError(
            where, f"不是有效的 .docx 文件 not a valid .docx file (Word 2007+): {exc}"
        ) from None
    lines: list[str] = []
    paragraphs = 0  # body paragraphs with text, outside tables
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_table_lines(block))
        elif block.text.strip():
            paragraphs += 1
            lines.append(block.text)
        else:
            lines.append("")  # an empty paragraph: the blank line a plain text would have
    if not paragraphs:
        cells = sum(1 for ln in lines if ln.strip())
        raise PlanError(
            where,
            f"文档正文没有段落，只有表格（{cells} 行文字），规划正文应是段落 the document body has "
            f"no paragraphs, only tables ({cells} lines of text): expected the plan as paragraphs"
            if cells
            else "文档没有任何文字 the document has no text at all",
        )
    return check_text("\n".join(lines).strip("\n") + "\n", where)


def _table_lines(table) -> list[str]:
    """A table's text, row by row, each cell's paragraphs as lines; a merged cell (python-docx
    returns it once per grid column it spans) only once; nested tables in place."""
    lines: list[str] = []
    seen: list = []  # the cells' XML elements, kept alive so identity is meaningful
    for row in table.rows:
        for cell in row.cells:
            if any(cell._tc is tc for tc in seen):
                continue
            seen.append(cell._tc)
            for paragraph in cell.paragraphs:
                if paragraph.text.strip():
                    lines.append(paragraph.text)
            for inner in cell.tables:
                lines.extend(_table_lines(inner))
    return lines


# -- .pdf -------------------------------------------------------------------------------------
def _pdf_text(data: bytes, where: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise PlanError(
                where, "PDF 已加密，需要密码 the PDF is encrypted: a password is needed"
            )
        texts = [(page.extract_text() or "") for page in reader.pages]
        images = [_has_images(page) for page in reader.pages]
    except PlanError:
        raise
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise PlanError(where, f"不是有效的 PDF 文件 not a valid PDF file: {exc}") from None
    empty = [n for n, text in enumerate(texts, start=1) if not text.strip()]
    # With text elsewhere, an empty page with an image is a scanned page, one without is blank.
    scanned = empty if len(empty) == len(texts) else [n for n in empty if images[n - 1]]
    if scanned or not texts:
        pages = ", ".join(map(str, scanned)) or "-"
        raise PlanError(
            where,
            f"扫描件？没有文字层：共 {len(texts)} 页，第 {pages} 页没有可提取的文字，"
            f"请上传带文字层的 PDF 或 .docx/.txt  scanned? no text layer: of {len(texts)} pages, "
            f"page(s) {pages} "
            "have no extractable text; upload a PDF with a text layer, or the .docx/.txt",
        )
    return check_text("\n".join(t.strip("\n") for t in texts if t.strip()) + "\n", where)


def _has_images(page) -> bool:
    """Whether a PDF page draws an image (what a scanner makes), without decoding it."""
    try:
        resources = page.get("/Resources") or {}
        xobjects = resources.get_object().get("/XObject") or {}
        xobjects = xobjects.get_object()
        return any(xobjects[k].get_object().get("/Subtype") == "/Image" for k in xobjects)
    except (AttributeError, KeyError, TypeError):
        return False
