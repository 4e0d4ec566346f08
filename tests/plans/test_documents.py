"""Plan files a person brings (.txt in UTF-8/GBK, .docx, .pdf) read to text, and the bad ones
refused with an error naming the file. The fixtures are made here: python-docx writes the
.docx, WeasyPrint (the reports' PDF writer) the text PDF, pypdf the pages without text."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from pypdf import PdfWriter

from plans.documents import plan_text, read_plan_file
from plans.errors import PlanError
from plans.parse import parse_text

HEADING = "一、推进清洁取暖"
MEASURE = "（一）改造燃煤锅炉。到2025年，城市建成区内35蒸吨/小时以下燃煤锅炉基本淘汰。"
UNITS = "〔责任单位：市发改委、市住建局〕"
PLAN_LINES = [
    "某市清洁取暖实施方案",
    HEADING,
    MEASURE + UNITS,
    "（二）加强农村清洁取暖。实施农村清洁取暖改造2万户以上，推进能源结构调整。" + UNITS,
]
PLAN = "\n".join(PLAN_LINES) + "\n"


def write_docx(path: Path, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    document = docx.Document()
    for text in paragraphs[:2]:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, text in enumerate(row):
                grid.cell(r, c).text = text
    for text in paragraphs[2:]:
        document.add_paragraph(text)
    document.save(path)
    return path


def text_pdf(lines: list[str]) -> bytes:
    from weasyprint import HTML

    body = "".join(f"<p>{line}</p>" for line in lines)
    style = "body { font-family: 'Noto Sans CJK SC'; font-size: 10pt }"
    return HTML(string=f"<html><style>{style}</style><body>{body}</body></html>").write_pdf()


@pytest.mark.parametrize(
    "data",
    [PLAN.encode("utf-8"), b"\xef\xbb\xbf" + PLAN.encode("utf-8"), PLAN.encode("gbk")],
    ids=["utf-8", "utf-8-bom", "gbk"],
)
def test_txt_in_each_encoding(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "plan.txt"
    path.write_bytes(data)
    assert read_plan_file(path) == PLAN


def test_gb18030_beyond_gbk() -> None:
    text = PLAN.replace("某市", "𠀀市")  # a character GBK does not have
    assert plan_text(text.encode("gb18030"), "plan.txt") == text


def test_unknown_encoding_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "乱码.txt"
    path.write_bytes(PLAN.encode("utf-8")[:30] + b"\xff\xfe\xff\xfe\x81\x30" * 3)
    with pytest.raises(PlanError) as caught:
        read_plan_file(path)
    reason = caught.value.reason
    assert caught.value.path == str(path) and str(path) in str(caught.value)
    assert reason.index("编码") < reason.index("encoding")


def test_docx_paragraphs_and_table_cells_in_order(tmp_path: Path) -> None:
    box = [["专栏1 清洁取暖重点工程"], ["实施集中供热管网改造100公里。"]]
    path = write_docx(tmp_path / "plan.docx", PLAN_LINES, table=box)
    lines = read_plan_file(path).splitlines()
    assert lines == [*PLAN_LINES[:2], *(row[0] for row in box), *PLAN_LINES[2:]]
    assert len(list(parse_text(read_plan_file(path), "900").walk())) == 3


def test_docx_merged_cell_read_once(tmp_path: Path) -> None:
    document = docx.Document()
    for text in PLAN_LINES:
        document.add_paragraph(text)
    grid = document.add_table(rows=1, cols=3)
    grid.cell(0, 0).merge(grid.cell(0, 2)).text = "专栏 一个合并的单元格"
    path = tmp_path / "merged.docx"
    document.save(path)
    assert read_plan_file(path).count("一个合并的单元格") == 1


def test_docx_with_tables_only(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "表格.docx", [], table=[[line] for line in PLAN_LINES])
    with pytest.raises(PlanError) as caught:
        read_plan_file(path)
    message = str(caught.value)
    assert str(path) in message and "只有表格" in message and "only tables" in message


def test_not_a_docx(tmp_path: Path) -> None:
    path = tmp_path / "fake.docx"
    path.write_bytes(PLAN.encode("utf-8"))
    with pytest.raises(PlanError, match="不是有效的 .docx 文件 not a valid .docx"):
        read_plan_file(path)


def test_pdf_with_a_text_layer(tmp_path: Path) -> None:
    path = tmp_path / "plan.pdf"
    path.write_bytes(text_pdf(PLAN_LINES))
    text = read_plan_file(path)
    assert text.replace("\n", "") == "".join(PLAN_LINES)  # long lines come wrapped
    doc = parse_text(text, "900")
    assert [(n.level, n.label) for n in doc.walk()] == [(1, "一"), (2, "一"), (2, "二")]


def blank_pdf(pages: int) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_scanned_pdf_without_text(tmp_path: Path) -> None:
    path = tmp_path / "扫描.pdf"
    path.write_bytes(blank_pdf(2))
    with pytest.raises(PlanError) as caught:
        read_plan_file(path)
    reason = caught.value.reason
    assert str(path) in str(caught.value)
    assert reason.index("扫描件？没有文字层") < reason.index("scanned") and "2 pages" in reason


def test_not_a_pdf_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="不是有效的 PDF 文件 not a valid PDF"):
        plan_text(b"%PDF-1.7 not really", "x.pdf")
    with pytest.raises(PlanError, match="不支持的文件类型「.doc」.*unsupported file type"):
        plan_text(b"\xd0\xcf\x11\xe0", "old.doc")
