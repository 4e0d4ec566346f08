"""Ledger (台账) files read into a `Table` of raw rows, with the row numbers a person sees.

Formats: Excel .xlsx, CSV (UTF-8, UTF-8 with BOM or GBK/GB18030, delimiter sniffed), a zipped
Shapefile (encoding from .cpg, else detected), GeoPackage and GeoJSON. Nothing is interpreted
here (no coordinates, no field checks): values come back as the file holds them, so the plan
layer can say precisely what is wrong with a row. Every problem with the file itself is a
`LedgerError` naming the file and, where it applies, the row and the field; a file that can be
read more than one way (several layers) is a `LedgerChoiceError` listing the choices. Problems
confined to one feature (a GeoJSON coordinate that is not a number) are kept per row in
`Table.row_errors` and `Table.row_warnings` for the plan layer, the rest of the file still read.

Spreadsheets (Excel, CSV) as county offices keep them have title rows above the header and
sometimes a header on two lines (a group cell such as 坐标 merged over 经度 | 纬度). Given a
`known(text)` predicate (does this cell name a field of the layer? the caller knows the layer;
this module knows no schema), the header is found among the first rows, a second header line
merged into it, and what was skipped is said in `Table.notes`.

Reading, checking and writing a large ledger takes a while, so each step can report its
progress to an optional callback `progress(stage, done, total)` (`Progress`): at its start,
every PROGRESS_EVERY rows and at its end (done == total), total None when unknown.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import json
import math
import re
import sqlite3
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pyogrio
import pyogrio.raw
import pyproj
import shapely
from openpyxl.utils import get_column_letter
from shapely.errors import ShapelyError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geo.errors import LedgerChoiceError, LedgerError
from geo.ledger.coords import rings_closed_warning

FORMATS = (".xlsx", ".csv", ".zip", ".gpkg", ".geojson", ".json")
MAX_BYTES = 50 * 1024 * 1024  # default upload/file limit

# A zip (Shapefile or .xlsx) may unpack to at most this many times the file limit.
ZIP_EXPANSION = 4
# A member unpacking to more than this many times its compressed size is taken for a bomb,
# once it is big enough to matter (space-padded DBFs legitimately compress 20-50 to 1).
ZIP_MAX_RATIO = 100
ZIP_RATIO_FLOOR = 1024 * 1024
ZIP_MAX_MEMBERS = 1000

CSV_DELIMITERS = (",", ";", "\t")

# known(cell text): whether a header cell names a field or coordinate column of the layer.
Known = Callable[[str], bool]
# Non-empty rows searched for the header: title blocks are a few rows, never a page.
HEADER_SCAN = 30
# Cells of a row that must name known fields for it to be taken as the header: one alone can
# be a title or a note that happens to be a field's name.
HEADER_MIN_KNOWN = 2

# progress(stage, done, total): stage "read" | "check" | "write" | "rebuild", rows done, the
# rows expected (an estimate while reading; None when unknown).
Progress = Callable[[str, int, int | None], None]
PROGRESS_EVERY = 1000  # rows between reports: cheap for the caller, fine-grained enough

_MB = 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, and password-protected .xlsx
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf")
_SHAPEFILE_EXTRAS = (".prj", ".cpg")
_PART_NAMES = {".shx": "the shape index", ".dbf": "the attribute table"}

# .cpg contents as ArcGIS, QGIS and GDAL write them -> the Python codec. GBK and GB2312 are
# read as GB18030, their superset, so a rare character outside GBK still decodes.
_CPG_CODECS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "65001": "utf-8",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "936": "gb18030",
    "ansi 936": "gb18030",
    "gb2312": "gb18030",
    "euc-cn": "gb18030",
    "gb18030": "gb18030",
    "54936": "gb18030",
}


@dataclass
class Table:
    """The rows of a ledger file as the file holds them, with where each row is in the file."""

    path: Path
    columns: list[str]
    rows: list[dict[str, Any]]
    row_numbers: list[int]
    geometries: list[BaseGeometry | None] | None
    crs: str | None
    encoding: str | None
    sheet: str | None = None
    # Excel and CSV: the header's (first) row as the person sees it, and 2 when it is on two
    # lines; None for formats without a header row.
    header_row: int | None = None
    header_rows: int = 1
    notes: list[str] = field(default_factory=list)  # what was skipped or merged, 中文 first
    title_year: int | None = None  # a year in a skipped title row (台账（2023年）)
    # Problems of one row only, by row index (0-based into rows): the row is still returned.
    row_errors: dict[int, LedgerError] = field(default_factory=dict)
    row_warnings: dict[int, list[LedgerError]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)


def read_table(
    path: Path | str,
    *,
    max_bytes: int = MAX_BYTES,
    sheet: str | None = None,
    layer: str | None = None,
    progress: Progress | None = None,
    header_row: int | None = None,
    known: Known | None = None,
) -> Table:
    """Read a ledger file. `layer` picks the layer of a GeoPackage with several spatial layers
    or the Shapefile of a zip holding several (default: the only one, else a
    LedgerChoiceError listing them); `sheet` the Excel sheet (default: the first).
    `header_row` is the Excel row or CSV line of the header as the person sees it (rows above
    are skipped); without it the header is the first of the first HEADER_SCAN non-empty rows
    with HEADER_MIN_KNOWN cells that `known` accepts, else the first non-empty row. With
    `known`, a row right below the header that names known fields and holds no numbers is the
    header's second line. Options that do not apply to the format are ignored.
    `progress` hears ("read", rows read, rows expected or None) now and then.

    Errors name the file by its name alone: uploads sit in temporary folders whose paths mean
    nothing to the person who sent the file.
    """
    path = Path(path)
    where = path.name
    suffix = path.suffix.lower()
    report = progress or _no_progress
    report("read", 0, None)
    if suffix == ".xls":
        raise LedgerError(
            "不读旧版 Excel .xls 文件：请用 Excel 或 WPS 打开，另存为 .xlsx "
            "old Excel .xls files are not read: open it in Excel or WPS and save it as "
            "an Excel workbook (.xlsx)",
            path=where,
        )
    if suffix not in FORMATS:
        hint = (
            "（请把 .shp 与 .shx、.dbf、.prj、.cpg 一起压缩 zip the .shp with its .shx, .dbf, "
            ".prj and .cpg）"
            if suffix == ".shp"
            else ""
        )
        raise LedgerError(
            f"无法读取「{suffix or path.name}」文件 cannot read '{suffix or path.name}' "
            f"files{hint}; "
            f"ledgers can be {', '.join(FORMATS)} (.zip: a zipped Shapefile)",
            path=where,
        )
    try:
        if not path.is_file():
            raise LedgerError("文件不存在 no such file", path=where)
        size = path.stat().st_size
        if size > max_bytes:
            raise LedgerError(
                f"文件 {_megabytes(size)} MB，超过上限 {_megabytes(max_bytes)} MB "
                f"file is {_megabytes(size)} MB, the limit is {_megabytes(max_bytes)} MB",
                path=where,
            )
        if size == 0:
            raise LedgerError("没有数据行：文件为空 no rows: the file is empty", path=where)
        with path.open("rb") as fh:
            head = fh.read(512)
        if suffix == ".xlsx":
            table = _read_xlsx(path, where, head, max_bytes, sheet, report, header_row, known)
        elif suffix == ".csv":
            table = _read_csv(path, where, report, header_row, known)
        elif suffix == ".zip":
            table = _read_zip(path, where, head, max_bytes, layer)
        elif suffix == ".gpkg":
            table = _read_gpkg(path, where, head, layer)
        else:
            table = _read_geojson(path, where, report)
    except OSError as exc:
        raise LedgerError(
            f"无法读取文件 cannot read the file: {exc.strerror or exc}", path=where
        ) from None
    if not table.rows:
        what = "features" if table.geometries is not None else "data under the header"
        raise LedgerError(f"没有数据行 no rows: the file has no {what}", path=where)
    report("read", len(table), len(table))
    return table


def _no_progress(_stage: str, _done: int, _total: int | None) -> None:
    pass


class _Counter:
    """Reports rows read every PROGRESS_EVERY rows against an estimated total, which is raised
    when the file holds more than estimated (a total is never below what is done)."""

    def __init__(self, report: Progress, estimate: int | None) -> None:
        self.report = report
        self.estimate = estimate

    def row(self, done: int) -> None:
        if done % PROGRESS_EVERY == 0:
            total = None if self.estimate is None else max(self.estimate, done)
            self.report("read", done, total)


# --- Excel ---------------------------------------------------------------------------------


def _read_xlsx(
    path: Path,
    where: str,
    head: bytes,
    max_bytes: int,
    sheet: str | None,
    report: Progress = _no_progress,
    header_row: int | None = None,
    known: Known | None = None,
) -> Table:
    if head.startswith(_OLE_MAGIC):
        raise LedgerError(
            "不是 Excel .xlsx 文件：是旧版 .xls 或加了密码的工作簿，请打开、去掉密码并另存为 .xlsx "
            "not an Excel .xlsx file: it is an old .xls file or a password-protected workbook; "
            "open it in Excel or WPS, remove any password and save it as .xlsx",
            path=where,
        )
    if not head.startswith(_ZIP_MAGIC):
        raise LedgerError(
            f"不是 Excel .xlsx 文件，像是改了扩展名的其他文件，请用 Excel 或 WPS 另存为 .xlsx "
            f"not an Excel .xlsx file: it looks like {_looks_like(head)} renamed .xlsx; "
            "open it in Excel or WPS and save it as .xlsx",
            path=where,
        )
    with _open_zip(path, where, "an Excel .xlsx file") as zf:
        if "xl/workbook.xml" not in zf.namelist():
            raise LedgerError(
                "不是 Excel .xlsx 文件：压缩包里没有工作簿 "
                "not an Excel .xlsx file: a zip without an Excel workbook in it",
                path=where,
            )
        _check_unpacked_size(zf.infolist(), where, max_bytes)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zip, XML, key and value errors for broken files
        raise LedgerError(
            f"无法打开 Excel 工作簿 cannot open the Excel workbook: {exc}", path=where
        ) from None
    try:
        names = [ws.title for ws in wb.worksheets]
        if sheet is None:
            if not names:
                raise LedgerError(
                    "没有数据行：工作簿没有工作表 no rows: the workbook has no worksheet",
                    path=where,
                )
            ws = wb.worksheets[0]
        elif sheet in names:
            ws = wb.worksheets[names.index(sheet)]
        else:
            raise LedgerError(
                f"工作簿中没有工作表「{sheet}」 no sheet '{sheet}' in the workbook (it has: "
                f"{', '.join(names)})",
                path=where,
            )
        # The stored used range, if any, estimates the rows for the progress report (less the
        # header); it is not trusted for reading: some writers store a wrong one.
        stored_rows = ws.max_row
        estimate = stored_rows - 1 if isinstance(stored_rows, int) and stored_rows > 1 else None
        ws.reset_dimensions()
        # Closed before the workbook: a row generator left open on an error keeps the sheet's
        # stream, and the file, open until it is collected.
        with contextlib.closing(_sheet_lines(ws)) as lines:
            found, pending = _take_header(lines, where, get_column_letter, header_row, known)
            rows, numbers = _sheet_rows(
                itertools.chain(pending, lines), found, where, _Counter(report, estimate)
            )
    except LedgerError:
        raise
    except Exception as exc:  # a damaged sheet fails deep inside openpyxl's XML parsing
        raise LedgerError(
            f"无法读取 Excel 工作簿 cannot read the Excel workbook: {exc}", path=where
        ) from None
    finally:
        wb.close()
    return Table(path, found.columns, rows, numbers, None, None, None, ws.title, **found.fields())


def _sheet_lines(ws: Any) -> Iterator[tuple[int, list[Any]]]:
    """Every row with its number, empty ones too (as []), cells stripped."""
    # min_row=1 makes openpyxl yield an empty tuple for every missing row, keeping numbers right.
    for number, raw in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
        yield number, [_cell(v) for v in raw]


def _sheet_rows(
    lines: Iterable[tuple[int, list[Any]]],
    found: _Header,
    where: str,
    counter: _Counter | None = None,
) -> tuple[list[dict[str, Any]], list[int]]:
    columns, header_row = found.columns, found.row
    rows: list[dict[str, Any]] = []
    numbers: list[int] = []
    for number, values in lines:
        if all(v is None for v in values):
            continue
        _check_width(values, len(columns), number, header_row, where, get_column_letter)
        values += [None] * (len(columns) - len(values))
        rows.append(dict(zip(columns, values, strict=False)))
        numbers.append(number)
        if counter is not None:
            counter.row(len(rows))
    return rows, numbers


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    return value


# --- CSV -----------------------------------------------------------------------------------


def _read_csv(
    path: Path,
    where: str,
    report: Progress = _no_progress,
    header_row: int | None = None,
    known: Known | None = None,
) -> Table:
    data = path.read_bytes()
    text, encoding = _decode(data, where, "CSV")
    if not text.strip():
        raise LedgerError(
            "没有数据行：文件只有空行 no rows: the file holds only blank lines", path=where
        )
    # Lines less the header: a cheap estimate of the rows (quoted line breaks make it high).
    counter = _Counter(report, max(text.count("\n") - 1, 1))
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    lines = _csv_lines(reader, where)
    found, pending = _take_header(lines, where, _csv_column, header_row, known)
    columns, header_row = found.columns, found.row
    rows: list[dict[str, Any]] = []
    numbers: list[int] = []
    for line, values in itertools.chain(pending, lines):
        if all(v is None for v in values):
            continue
        if len(values) < len(columns):
            raise LedgerError(
                f"该行有 {len(values)} 个值，表头有 {len(columns)} 列 "
                f"the row has {len(values)} values, the header has {len(columns)} columns",
                path=where,
                row=line,
            )
        _check_width(values, len(columns), line, header_row, where, _csv_column, delimiter)
        rows.append(dict(zip(columns, values, strict=False)))
        numbers.append(line)
        counter.row(len(rows))
    return Table(path, columns, rows, numbers, None, None, encoding, **found.fields())


def _csv_lines(reader: Any, where: str) -> Iterator[tuple[int, list[str | None]]]:
    """Every record with the line it starts on, blank ones too (as []), values stripped."""
    while True:
        line = reader.line_num + 1  # where the next record starts
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise LedgerError(
                f"CSV 格式损坏 broken CSV: {exc}{_csv_hint(exc)}", path=where, row=line
            ) from None
        yield line, [v.strip() or None for v in record]


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header into the most columns with the rows agreeing; csv's
    own Sniffer guesses letters and quotes too, and is easily thrown by Chinese text. Lines
    it does not split at all before the first it splits are taken for titles above the header."""
    sample = text[: 64 * 1024]
    best, best_score = ",", (0.0, 1)
    for delimiter in CSV_DELIMITERS:
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        try:
            widths = [len(r) for r in itertools.islice(reader, 50) if any(c.strip() for c in r)]
        except csv.Error:
            continue
        widths = list(itertools.dropwhile(lambda w: w < 2, widths))
        if not widths:
            continue
        agreeing = sum(w == widths[0] for w in widths) / len(widths)
        score = (agreeing, widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_hint(exc: csv.Error) -> str:
    if "end of data" in str(exc):
        return '（引号未闭合？ a quote " opened and never closed?）'
    if "expected after" in str(exc):
        return '（引号内的引号须写两次 a quote " inside a quoted value must be written twice: ""）'
    return ""


def _csv_column(index: int) -> str:
    return str(index)


# --- Header and row width, shared by Excel and CSV -----------------------------------------

# A year in a title row: 2023年, 2023 年度 (not 2023年12月, a date), 统计年份：2023.
_TITLE_YEAR = re.compile(
    r"(?<!\d)((?:19|20)\d\d)\s*年(?!\s*\d{1,2}\s*月)|(?:年份|年度)\s*[：:]?\s*((?:19|20)\d\d)(?!\d)"
)
_NUMBER_TEXT = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


@dataclass
class _Header:
    """The header's column names and where it was: `titles` are the non-empty rows above it
    (skipped), `second` the row of its second line when it has one."""

    columns: list[str]
    row: int | None = None
    second: int | None = None
    titles: list[tuple[int, list[Any]]] = field(default_factory=list)
    given: bool = False

    def fields(self) -> dict[str, Any]:
        """The Table's fields saying where the header was, for the person to check."""
        notes = []
        if self.titles:
            numbers = [number for number, _ in self.titles]
            span = _rows_span(numbers)
            if self.given:
                notes.append(
                    f"表头在第 {self.row} 行（按指定，其上 {len(numbers)} 行已略过） "
                    f"header in row {self.row} as given; {span} skipped"
                )
            else:
                what = "title" if len(numbers) == 1 else "titles"
                notes.append(
                    f"表头在第 {self.row} 行（其上 {len(numbers)} 行为标题，已略过） "
                    f"header found in row {self.row}; {span} ({what}) skipped"
                )
        if self.second is not None:
            notes.append(
                f"两行表头（第 {self.row}–{self.second} 行）已合并 "
                f"two header lines (rows {self.row}–{self.second}) merged"
            )
        return {
            "header_row": self.row,
            "header_rows": 1 if self.second is None else 2,
            "notes": notes,
            "title_year": _title_year(self.titles),
        }


def _take_header(
    lines: Iterator[tuple[int, list[Any]]],
    where: str,
    label: Callable[[int], str],
    header_row: int | None,
    known: Known | None,
) -> tuple[_Header, list[tuple[int, list[Any]]]]:
    """The header, read off the start of `lines`, and the rows read past it while looking: data
    to read before the rest of `lines`. Only the first rows are looked at, so a large file
    reads as fast as one with its header in row 1."""
    above: list[tuple[int, list[Any]]] = []
    top: tuple[int, list[Any]] | None = None
    if header_row is not None:
        if header_row < 1:
            raise LedgerError(
                f"表头行须从 1 数起 the header row counts from 1, not {header_row}", path=where
            )
        for number, values in lines:
            filled = any(v is not None for v in values)
            if number >= header_row:
                top = (number, values) if number == header_row and filled else None
                break
            if filled:
                above.append((number, values))
        if top is None:
            raise LedgerError(
                "指定的表头行是空行 the row given as the header is empty",
                path=where,
                row=header_row,
            )
    else:
        for number, values in lines:
            if all(v is None for v in values):
                continue
            if known is None or _known_cells(values, known) >= HEADER_MIN_KNOWN:
                top = (number, values)
                break
            above.append((number, values))
            if len(above) == HEADER_SCAN:
                break
        if top is None:
            if not above:
                return _Header([]), []
            # No row names enough known fields: the first non-empty row, as without `known`.
            (number, values), *pending = above
            return _Header(_header(values, number, where, label), number), pending
    number, values = top
    pending = []
    if known is not None:
        below = next(lines, None)
        if below is not None and _continues_header(below[1], known):
            # The header's second line (经度 | 纬度 under a merged 坐标).
            merged = _merge_header(values, below[1], known)
            columns = _header(merged, number, where, label)
            return _Header(columns, number, below[0], above, header_row is not None), pending
        if below is not None:
            pending.append(below)
    if known is not None and header_row is None and above and above[-1][0] == number - 1:
        # Group names on the line above (基本信息 over 状态 | 备注), the row's own name merged
        # down over both lines (名称): one header when the line above fills this one's gaps.
        upper = above[-1][1]
        names = [_header_name(v) for v in values]
        while names and names[-1] is None:
            names.pop()
        merged = [
            low if low is not None else _header_name(up)
            for low, up in itertools.zip_longest(names, upper)
        ][: len(names)]
        if None in names and None not in merged:
            above.pop()
            columns = _header(merged, number - 1, where, label)
            return _Header(columns, number - 1, number, above), pending
    columns = _header(values, number, where, label)
    return _Header(columns, number, None, above, header_row is not None), pending


def _known_cells(values: Sequence[Any], known: Known) -> int:
    return sum(1 for v in values if (name := _header_name(v)) is not None and known(name))


def _continues_header(values: Sequence[Any], known: Known) -> bool:
    """Whether the row below the header is its second line (经度 | 纬度 under a merged 坐标):
    it names a known field and holds no number, date or other value only data has."""
    if any(v is not None and (not isinstance(v, str) or _NUMBER_TEXT.fullmatch(v)) for v in values):
        return False
    return _known_cells(values, known) >= 1


def _merge_header(upper: Sequence[Any], lower: Sequence[Any], known: Known) -> list[str | None]:
    """A two-line header as one: the lower name where it is a known one, else the upper (a
    name merged down over both lines, or a group's), else the lower."""
    merged: list[str | None] = []
    for index in range(max(len(upper), len(lower))):
        up = _header_name(upper[index]) if index < len(upper) else None
        low = _header_name(lower[index]) if index < len(lower) else None
        merged.append(low if low is not None and known(low) else up if up is not None else low)
    return merged


def _title_year(titles: Sequence[tuple[int, list[Any]]]) -> int | None:
    for _, values in titles:
        found = _TITLE_YEAR.search(" ".join(str(v) for v in values if v is not None))
        if found:
            return int(found[1] or found[2])
    return None


def _rows_span(numbers: Sequence[int]) -> str:
    """'row 1', 'rows 1–2', or 'rows 1, 3' for rows with a gap."""
    if len(numbers) == 1:
        return f"row {numbers[0]}"
    if numbers[-1] - numbers[0] == len(numbers) - 1:
        return f"rows {numbers[0]}–{numbers[-1]}"
    return f"rows {', '.join(map(str, numbers))}"


def _header(values: Sequence[Any], row: int, where: str, label: Callable[[int], str]) -> list[str]:
    """Column names from the header row: trailing empty cells dropped, none empty or twice."""
    names = [_header_name(v) for v in values]
    while names and names[-1] is None:
        names.pop()
    seen: dict[str, int] = {}
    for index, name in enumerate(names, start=1):
        if name is None:
            title = len([n for n in names if n]) == 1
            hint = (
                "（第一行是标题吗？第一行须是列名 is the first row a title? the first row must "
                "hold the column names）"
            )
            raise LedgerError(
                f"表头第 {label(index)} 列没有列名 column {label(index)} of the header has no name"
                f"{hint if title else ''}",
                path=where,
                row=row,
            )
        if name in seen:
            raise LedgerError(
                f"列名重复（第 {label(seen[name])} 列与第 {label(index)} 列） "
                f"column name appears twice (columns {label(seen[name])} and {label(index)})",
                path=where,
                row=row,
                field=name,
            )
        seen[name] = index
    return [n for n in names if n is not None]


def _header_name(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\ufeff", "").strip() or None


def _check_width(
    values: Sequence[Any],
    width: int,
    row: int,
    header_row: int,
    where: str,
    label: Callable[[int], str],
    delimiter: str | None = None,
) -> None:
    """A value beyond the named columns is an error: it would be dropped otherwise."""
    extra = next((i for i in range(width, len(values)) if values[i] is not None), None)
    if extra is None:
        return
    if delimiter is not None:
        shown = "TAB" if delimiter == "\t" else f"'{delimiter}'"
        message = (
            f"该行有 {len(values)} 个值，表头有 {width} 列（值里有未加引号的 {shown}？） "
            f"the row has {len(values)} values, the header has {width} columns "
            f"(a value with an unquoted {shown} in it?)"
        )
    else:
        message = (
            f"第 {label(extra + 1)} 列有值，但表头（第 {header_row} 行）该列没有列名 "
            f"a value in column {label(extra + 1)}, which has no name in the header "
            f"(row {header_row})"
        )
        if width == 1:
            message += (
                "；第一行是标题吗？第一行须是列名 is the first row a title? the first row "
                "must hold the column names"
            )
    raise LedgerError(message, path=where, row=row)


# --- Text encodings ------------------------------------------------------------------------


def _decode(data: bytes, where: str, kind: str) -> tuple[str, str]:
    """The text and its encoding: a BOM decides, else UTF-8, else GB18030 (which reads GBK
    and GB2312). Binary files are refused here, before GB18030 would read them as text."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise LedgerError(
                f"开头像 UTF-8 文本，但不是 UTF-8，请另存为 UTF-8 "
                f"starts like UTF-8 text but is not UTF-8{_at_line(data, exc.start, kind)} "
                f"(save it again as {kind} UTF-8)",
                path=where,
                row=_line_of(data, exc.start) if kind == "CSV" else None,
            ) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise LedgerError("UTF-16 文本损坏 broken UTF-16 text", path=where) from None
    if b"\x00" in data:
        raise LedgerError(
            f"不是文本文件 not a text file: it looks like {_looks_like(data[:512])} named as "
            f"{kind}",
            path=where,
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise LedgerError(
            f"文本既不是 UTF-8 也不是 GBK/GB18030，请另存为 UTF-8 "
            f"the text is neither UTF-8 nor GBK/GB18030{_at_line(data, utf8_error.start, kind)}; "
            f"save it as {kind} UTF-8",
            path=where,
            row=_line_of(data, utf8_error.start) if kind == "CSV" else None,
        ) from None


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _at_line(data: bytes, offset: int, kind: str) -> str:
    """Where undecodable text starts; a CSV's line is already the error's row."""
    return " from this line on" if kind == "CSV" else f" from line {_line_of(data, offset)} on"


def _looks_like(head: bytes) -> str:
    """What a file's first bytes say it is, for the message that refuses it."""
    text = head.lstrip(codecs.BOM_UTF8 + b" \t\r\n").lower()
    if head.startswith(_ZIP_MAGIC):
        return "a zip or Excel .xlsx file"
    if head.startswith(_OLE_MAGIC):
        return "an old Excel .xls file"
    if head.startswith(_SQLITE_MAGIC):
        return "a GeoPackage/SQLite database"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if text.startswith((b"<!doctype html", b"<html", b"<table", b"<meta", b"<?xml")):
        return "a web page (HTML/XML, as some systems export 'Excel')"
    if text.startswith((b"{", b"[")):
        return "a JSON file"
    if b"\x00" in head:
        return "a binary file"
    return "a text or CSV file"


# --- Zipped Shapefile ----------------------------------------------------------------------


def _read_zip(path: Path, where: str, head: bytes, max_bytes: int, layer: str | None) -> Table:
    if not head.startswith((_ZIP_MAGIC, _EMPTY_ZIP_MAGIC)):
        raise LedgerError(
            f"不是 zip 压缩包 not a zip file: it looks like {_looks_like(head)} renamed .zip",
            path=where,
        )
    with _open_zip(path, where, "a zip file") as zf:
        infos = zf.infolist()
        _check_members(infos, where, max_bytes)
        shp = _pick_shapefile(infos, where, layer)
        stem = shp.filename[: -len(".shp")].lower()
        parts = {".shp": shp}
        for info in infos:
            name = info.filename.lower()
            if name.startswith(stem) and name[len(stem) :] in _SHAPEFILE_PARTS + _SHAPEFILE_EXTRAS:
                parts.setdefault(name[len(stem) :], info)
        for ext in _SHAPEFILE_PARTS:
            if ext not in parts:
                raise LedgerError(
                    f"Shapefile「{_member_name(shp)}」缺少 {ext} 文件，请把 "
                    ".shp、.shx、.dbf、.prj、.cpg 一起压缩 "
                    f"the Shapefile '{_member_name(shp)}' comes without its {ext} "
                    f"({_PART_NAMES[ext]}): zip the .shp, .shx, .dbf, .prj and .cpg together",
                    path=where,
                )
        with tempfile.TemporaryDirectory(prefix="lutu-ledger-") as tmp:
            # Fixed names in our own folder: nothing in the zip chooses where a file lands.
            budget = ZIP_EXPANSION * max_bytes
            for ext, info in parts.items():
                budget -= _extract(zf, info, Path(tmp) / f"ledger{ext}", budget, where)
            declared = None
            if ".cpg" in parts:
                declared = (Path(tmp) / "ledger.cpg").read_bytes()[:64].decode("latin-1")
            encoding = _shapefile_encoding(Path(tmp) / "ledger.dbf", declared, where)
            columns, rows, geometries, crs = _read_ogr(
                Path(tmp) / "ledger.shp", where, "Shapefile", encoding=encoding
            )
    return Table(path, columns, rows, list(range(1, len(rows) + 1)), geometries, crs, encoding)


@contextlib.contextmanager
def _open_zip(path: Path, where: str, what: str) -> Iterator[zipfile.ZipFile]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, NotImplementedError) as exc:
        raise LedgerError(
            f"文件损坏或格式不符 not {what}, or a damaged one: {exc}", path=where
        ) from None
    with zf:
        yield zf


def _check_unpacked_size(infos: Sequence[zipfile.ZipInfo], where: str, max_bytes: int) -> None:
    """The sizes the zip declares, before unpacking; the largest member is named, as it is
    the one to look at (a sheet, a .dbf) when a genuine file is refused."""
    total = sum(i.file_size for i in infos)
    if total > ZIP_EXPANSION * max_bytes:
        largest = max(infos, key=lambda i: i.file_size)
        raise LedgerError(
            f"解压后 {_megabytes(total)} MB，过大，已拒绝 "
            f"refused as a zip bomb or too large: it unpacks to {_megabytes(total)} MB, more "
            f"than {_megabytes(ZIP_EXPANSION * max_bytes)} MB ({ZIP_EXPANSION} × the "
            f"{_megabytes(max_bytes)} MB file limit); the largest member is "
            f"'{_member_name(largest)}' ({_megabytes(largest.file_size)} MB)",
            path=where,
        )


def _check_members(infos: Sequence[zipfile.ZipInfo], where: str, max_bytes: int) -> None:
    """Refuse what could hurt before unpacking anything: bombs, odd paths, encryption."""
    if len(infos) > ZIP_MAX_MEMBERS:
        raise LedgerError(
            f"压缩包含 {len(infos)} 个文件，超过 {ZIP_MAX_MEMBERS} 个 "
            f"the zip holds {len(infos)} files, more than {ZIP_MAX_MEMBERS}",
            path=where,
        )
    for info in infos:
        parts = re.split(r"[\\/]", info.filename)
        if info.filename.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", info.filename):
            raise LedgerError(
                f"压缩包内路径不安全（绝对路径） unsafe path in the zip: '{_member_name(info)}' is "
                "absolute",
                path=where,
            )
        if ".." in parts:
            raise LedgerError(
                f"压缩包内路径不安全（含 ..） "
                f"unsafe path in the zip: '{_member_name(info)}' points outside it with '..'",
                path=where,
            )
        if info.flag_bits & 0x1:
            raise LedgerError(
                f"压缩包内「{_member_name(info)}」有密码 '{_member_name(info)}' in the zip is "
                "password-protected",
                path=where,
            )
    _check_unpacked_size(infos, where, max_bytes)
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= ZIP_RATIO_FLOOR and ratio > ZIP_MAX_RATIO:
            raise LedgerError(
                f"压缩比 {ratio:.0f}:1 过高，已拒绝 "
                f"refused as a zip bomb: '{_member_name(info)}' is compressed {ratio:.0f} to 1, "
                f"more than {ZIP_MAX_RATIO} to 1",
                path=where,
            )


def _pick_shapefile(
    infos: Sequence[zipfile.ZipInfo], where: str, layer: str | None
) -> zipfile.ZipInfo:
    files = [
        i
        for i in infos
        if not i.is_dir()
        and not i.filename.startswith("__MACOSX/")
        and not re.split(r"[\\/]", i.filename)[-1].startswith("._")
    ]
    shps = [i for i in files if i.filename.lower().endswith(".shp")]
    stems = list(dict.fromkeys(Path(_member_name(i)).stem for i in shps))
    if layer is not None:
        named = [i for i in shps if Path(_member_name(i)).stem == layer]
        if not named:
            listed = ", ".join(_member_name(i) for i in shps) or "none"
            message = (
                f"压缩包中没有 Shapefile「{layer}」 no Shapefile '{layer}' in the zip (it "
                f"has: {listed})"
            )
            if not stems:
                raise LedgerError(message, path=where)
            raise LedgerChoiceError(message, option="source_layer", choices=stems, path=where)
        shps = named[:1]
    if not shps:
        listed = ", ".join(_member_name(i) for i in files[:10]) or "nothing"
        more = f" and {len(files) - 10} more" if len(files) > 10 else ""
        raise LedgerError(
            "压缩包中没有 Shapefile (.shp) no Shapefile (.shp) in the zip; it holds: "
            f"{listed}{more}",
            path=where,
        )
    if len(shps) > 1:
        listed = [_member_name(i) for i in shps]
        raise LedgerChoiceError(
            f"zip 含 {len(shps)} 个 Shapefile（{'、'.join(listed)}），请选择要导入的图层 "
            f"the zip holds {len(shps)} Shapefiles ({', '.join(listed)}): "
            "choose the layer to import",
            option="source_layer",
            choices=stems,
            path=where,
        )
    return shps[0]


def _member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author wrote it: without the UTF-8 flag, zipfile decodes names
    as CP437, which garbles the GBK names Chinese Windows writes."""
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.filename.encode("cp437", errors="replace")
    for encoding in ("utf-8", "gb18030"):
        with contextlib.suppress(UnicodeDecodeError):
            return raw.decode(encoding)
    return info.filename


def _extract(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, budget: int, where: str
) -> int:
    """Copy one member to `dest`, counting the bytes really written against `budget`."""
    written = 0
    try:
        with zf.open(info) as src, dest.open("wb") as out:
            while chunk := src.read(1 << 20):
                written += len(chunk)
                if written > budget:
                    raise LedgerError(
                        f"「{_member_name(info)}」解压后过大，已拒绝 "
                        f"refused as a zip bomb: '{_member_name(info)}' unpacks to too much "
                        f"(more than {_megabytes(budget)} MB)",
                        path=where,
                    )
                out.write(chunk)
    except LedgerError:
        raise
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        NotImplementedError,
        RuntimeError,
        ValueError,
    ) as exc:
        raise LedgerError(
            f"无法解压「{_member_name(info)}」 cannot unpack '{_member_name(info)}' from the zip: "
            f"{exc}",
            path=where,
        ) from None
    return written


def _shapefile_encoding(dbf: Path, declared: str | None, where: str) -> str:
    """The .cpg's encoding when the DBF's text decodes with it, else UTF-8, else GB18030: a
    Shapefile without .cpg from Chinese ArcGIS is GBK, and GDAL would read it as Latin-1."""
    candidates = ["utf-8", "gb18030"]
    if declared is not None:
        codec = _cpg_codec(declared)
        if codec is not None:
            candidates.insert(0, codec)
    for codec in candidates:
        if _dbf_decodes(dbf, codec):
            return codec
    raise LedgerError(
        "属性表 (.dbf) 既不是 UTF-8 也不是 GBK/GB18030：请附上写明编码的 .cpg 文件 "
        "the attribute text (.dbf) is neither UTF-8 nor GBK/GB18030: add a .cpg file naming "
        "its encoding",
        path=where,
    )


def _cpg_codec(declared: str) -> str | None:
    value = declared.strip().lower()
    if value in _CPG_CODECS:
        return _CPG_CODECS[value]
    value = value.removeprefix("ansi ")
    for name in (value, f"cp{value}"):
        with contextlib.suppress(LookupError):
            return codecs.lookup(name).name
    return None


def _dbf_decodes(dbf: Path, codec: str) -> bool:
    """Whether the DBF's field names and records decode as `codec` (numbers are ASCII)."""
    try:
        with dbf.open("rb") as fh:
            head = fh.read(32)
            header_length = int.from_bytes(head[8:10], "little")
            descriptors = fh.read(max(header_length - 32, 0))
            for start in range(0, len(descriptors) - 31, 32):
                if descriptors[start] == 0x0D:
                    break
                descriptors[start : start + 11].split(b"\x00")[0].decode(codec)
            decoder = codecs.getincrementaldecoder(codec)()
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


# --- GeoPackage ----------------------------------------------------------------------------


def _read_gpkg(path: Path, where: str, head: bytes, layer: str | None) -> Table:
    if not head.startswith(_SQLITE_MAGIC):
        raise LedgerError(
            f"不是 GeoPackage not a GeoPackage: it looks like {_looks_like(head)} renamed .gpkg",
            path=where,
        )
    _check_sqlite(path, where)
    try:
        listed = [(str(name), kind) for name, kind in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises its own errors and GDAL's for damaged files
        raise LedgerError(
            f"无法读取 GeoPackage cannot read the GeoPackage: {exc}", path=where
        ) from None
    # Tables without geometry (QGIS's layer_styles, lookup lists) are not what is imported.
    layers = [name for name, kind in listed if kind is not None]
    tables = [name for name, kind in listed if kind is None]
    if not layers:
        if tables:
            raise LedgerError(
                f"GeoPackage 没有空间图层（只有表：{'、'.join(tables)}） "
                f"the GeoPackage has no spatial layer, only tables: {', '.join(tables)}",
                path=where,
            )
        raise LedgerError(
            "没有数据行：GeoPackage 没有图层 no rows: the GeoPackage has no layers", path=where
        )
    if layer is None:
        if len(layers) > 1:
            raise LedgerChoiceError(
                f"GeoPackage 含 {len(layers)} 个图层（{'、'.join(layers)}），请选择要导入的图层 "
                f"the GeoPackage has {len(layers)} layers ({', '.join(layers)}): "
                "choose the layer to import",
                option="source_layer",
                choices=layers,
                path=where,
            )
        layer = layers[0]
    elif layer not in layers:
        message = (
            f"GeoPackage 中没有图层「{layer}」 "
            f"no layer '{layer}' in the GeoPackage (it has: {', '.join(layers)})"
        )
        if layer in tables:
            message = (
                f"「{layer}」是没有几何的表，不是图层 "
                f"'{layer}' in the GeoPackage is a table without geometry, not a layer "
                f"(its layers: {', '.join(layers)})"
            )
        raise LedgerChoiceError(message, option="source_layer", choices=layers, path=where)
    columns, rows, geometries, crs = _read_ogr(path, where, "GeoPackage", layer=layer)
    return Table(path, columns, rows, list(range(1, len(rows) + 1)), geometries, crs, "utf-8")


def _check_sqlite(path: Path, where: str) -> None:
    """A damaged database is refused whole: GDAL would read a truncated one up to the damage."""
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as con:
            result = con.execute("PRAGMA quick_check").fetchall()
            contents = con.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'gpkg_contents'"
            ).fetchall()
    except (sqlite3.Error, UnicodeDecodeError) as exc:
        # SQLite's message about a damaged file can itself hold undecodable bytes.
        reason = "undecodable text" if isinstance(exc, UnicodeDecodeError) else exc
        raise LedgerError(
            f"GeoPackage 损坏或不完整，请重新导出 a damaged or truncated GeoPackage ({reason}): "
            "export it "
            "again",
            path=where,
        ) from None
    if result != [("ok",)]:
        raise LedgerError(
            f"GeoPackage 损坏，请重新导出 a damaged GeoPackage ({result[0][0]}): export it again",
            path=where,
        )
    if not contents:
        raise LedgerError(
            "不是 GeoPackage：SQLite 数据库中没有 gpkg 表 not a GeoPackage: an SQLite database "
            "without gpkg "
            "tables",
            path=where,
        )


# --- GDAL-read formats (Shapefile, GeoPackage) ---------------------------------------------


def _read_ogr(
    source: Path, where: str, kind: str, *, layer: str | None = None, encoding: str | None = None
) -> tuple[list[str], list[dict[str, Any]], list[BaseGeometry | None] | None, str | None]:
    try:
        meta, _, wkb, field_data = pyogrio.raw.read(source, layer=layer, encoding=encoding)
    except Exception as exc:  # pyogrio raises its own errors and GDAL's for damaged files
        raise LedgerError(f"无法读取 {kind} cannot read the {kind}: {exc}", path=where) from None
    columns = [str(name).strip() for name in meta["fields"]]
    values = [
        _ogr_values(array, ogr_type, subtype)
        for array, ogr_type, subtype in zip(
            field_data, meta["ogr_types"], meta["ogr_subtypes"], strict=True
        )
    ]
    count = len(values[0]) if values else (0 if wkb is None else len(wkb))
    rows = [
        {name: column[i] for name, column in zip(columns, values, strict=True)}
        for i in range(count)
    ]
    geometries = None
    if wkb is not None:
        geometries = []
        for number, item in enumerate(wkb, start=1):
            try:
                geometries.append(None if item is None else shapely.from_wkb(item))
            except ShapelyError as exc:
                raise LedgerError(
                    f"几何损坏 broken geometry: {exc}", path=where, row=number, field="geometry"
                ) from None
    return columns, rows, geometries, _crs_name(meta["crs"])


def _ogr_values(array: np.ndarray, ogr_type: str, subtype: str) -> list[Any]:
    """Plain Python values; pyogrio gives nullable integers and booleans as floats with NaN."""
    if np.issubdtype(array.dtype, np.datetime64):
        return [_as_datetime(v) for v in array.astype("datetime64[us]").tolist()]
    values = array.tolist()
    if array.dtype.kind == "f":
        values = [None if v is None or math.isnan(v) else v for v in values]
        if subtype == "OFSTBoolean":
            return [None if v is None else bool(v) for v in values]
        if ogr_type in ("OFTInteger", "OFTInteger64"):
            return [None if v is None else int(v) for v in values]
        return values
    if array.dtype.kind == "b" or subtype == "OFSTBoolean":
        return [None if v is None else bool(v) for v in values]
    return [_cell(v) for v in values]


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime) or value is None:
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return None


def _crs_name(text: str | None) -> str | None:
    if not text:
        return None
    if re.fullmatch(r"EPSG:\d+", text):
        return text
    try:
        return _crs_label(pyproj.CRS.from_user_input(text))
    except pyproj.exceptions.CRSError:
        return text


def _crs_label(crs: pyproj.CRS) -> str:
    """'EPSG:n' when the CRS is identifiable, else its authority code, else its WKT."""
    epsg = crs.to_epsg()
    if epsg is not None:
        return f"EPSG:{epsg}"
    authority = crs.to_authority()
    return ":".join(authority) if authority else crs.to_wkt()


# --- GeoJSON -------------------------------------------------------------------------------


def _read_geojson(path: Path, where: str, report: Progress = _no_progress) -> Table:
    text, encoding = _decode(path.read_bytes(), where, "GeoJSON")
    if text.lstrip().startswith("["):
        raise LedgerError(
            "不是 GeoJSON 文件：内容是 JSON 列表，GeoJSON 以 { 开头 "
            "not a GeoJSON file: the file holds a JSON list; GeoJSON is an object starting "
            "with '{'",
            path=where,
        )
    if not text.lstrip().startswith("{"):
        raise LedgerError(
            "不是 GeoJSON 文件 not a GeoJSON file: it looks like "
            f"{_looks_like(text[:512].encode())}; "
            "GeoJSON starts with '{'",
            path=where,
        )
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LedgerError(
            f"JSON 格式错误（第 {exc.lineno} 行第 {exc.colno} 列） "
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            path=where,
        ) from None
    except RecursionError:
        raise LedgerError(
            "GeoJSON 嵌套过深 not valid GeoJSON: nested too deeply", path=where
        ) from None
    kind = doc.get("type") if isinstance(doc, dict) else None
    if kind != "FeatureCollection":
        raise LedgerError(
            "不是 GeoJSON 要素集 (FeatureCollection) not a GeoJSON FeatureCollection (its type is "
            f"{kind!r})",
            path=where,
            field="type",
        )
    features = doc.get("features")
    if not isinstance(features, list):
        raise LedgerError(
            "features 不是列表 'features' is not a list", path=where, field="features"
        )
    crs = _geojson_crs(doc.get("crs"), where)
    counter = _Counter(report, len(features))
    columns: dict[str, None] = {}
    rows: list[dict[str, Any]] = []
    geometries: list[BaseGeometry | None] = []
    errors: dict[int, LedgerError] = {}
    warnings: dict[int, list[LedgerError]] = {}
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise LedgerError("不是 GeoJSON 要素 not a GeoJSON Feature", path=where, row=number)
        props = feature.get("properties")
        if props is None:
            props = {}
        if not isinstance(props, dict):
            raise LedgerError(
                "properties 不是对象 'properties' is not an object",
                path=where,
                row=number,
                field="properties",
            )
        # As GDAL does: a Feature's own id is a column when the properties have none.
        if "id" not in props and feature.get("id") is not None:
            props = {"id": feature["id"], **props}
        row = {str(k).strip(): _json_value(v) for k, v in props.items()}
        columns.update(dict.fromkeys(row))
        rows.append(row)
        raw = feature.get("geometry")
        fault, unclosed = _coordinate_faults(raw)
        if fault is not None:
            errors[number - 1] = LedgerError(fault, path=where, row=number, field="geometry")
            geometries.append(None)
        else:
            geometries.append(_geojson_geometry(raw, where, number))
            if unclosed:
                warnings[number - 1] = [
                    LedgerError(
                        rings_closed_warning(unclosed), path=where, row=number, field="geometry"
                    )
                ]
        counter.row(number)
    names = list(columns)
    rows = [{name: row.get(name) for name in names} for row in rows]
    numbers = list(range(1, len(rows) + 1))
    return Table(
        path,
        names,
        rows,
        numbers,
        geometries,
        crs,
        encoding,
        row_errors=errors,
        row_warnings=warnings,
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _geojson_geometry(raw: Any, where: str, number: int) -> BaseGeometry | None:
    if raw is None:
        return None
    try:
        return shape(raw)
    except Exception as exc:  # shapely raises several kinds for malformed GeoJSON
        raise LedgerError(
            f"几何损坏 broken geometry: {exc or type(exc).__name__}",
            path=where,
            row=number,
            field="geometry",
        ) from None


# How deep a geometry type's positions lie in its coordinates (a Point's is the position).
_POSITION_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}
_JSON_KINDS = {str: "a string", bool: "true/false", dict: "an object", list: "a list"}


def _coordinate_faults(raw: Any) -> tuple[str | None, int]:
    """What shapely would accept without a word: the first coordinate that is not a number
    ('122.1' becomes 122.1, true becomes 1) as the row's error, and the number of polygon
    rings not closed (it closes them). Coordinates not nested as GeoJSON nests them are left
    for shapely to refuse."""
    unclosed = 0
    stack = [raw]
    while stack:
        geometry = stack.pop()
        if not isinstance(geometry, dict) or not isinstance(geometry.get("type"), str):
            continue
        kind = geometry["type"]
        if kind == "GeometryCollection":
            members = geometry.get("geometries")
            if isinstance(members, list):
                stack.extend(reversed(members))
            continue
        depth = _POSITION_DEPTH.get(kind)
        if depth is None:
            continue
        coordinates = geometry.get("coordinates")
        for position in _nested(coordinates, depth):
            if not isinstance(position, list):
                continue
            for value in position:
                # json.loads gives exactly int or float for numbers; bool is not one here.
                if type(value) is not float and type(value) is not int:
                    return _not_a_number(value), unclosed
                if type(value) is float and not math.isfinite(value):
                    return _not_a_number(value), unclosed
        if kind in ("Polygon", "MultiPolygon"):
            for ring in _nested(coordinates, depth - 1):
                if isinstance(ring, list) and ring and ring[0] != ring[-1]:
                    unclosed += 1
    return None, unclosed


def _nested(value: Any, depth: int) -> list[Any]:
    """The items `depth` list levels down in `value` (only lists are gone into)."""
    items = [value]
    for _ in range(depth):
        items = [item for outer in items if isinstance(outer, list) for item in outer]
    return items


def _not_a_number(value: Any) -> str:
    if isinstance(value, float):
        return f"坐标不是有限的数 coordinate is not a finite number: {json.dumps(value)}"
    shown = repr(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    kind = _JSON_KINDS.get(type(value))
    return f"坐标不是数字 coordinate is not a number: {shown}" + (f" ({kind})" if kind else "")


def _geojson_crs(member: Any, where: str) -> str:
    """EPSG:4326 (RFC 7946) unless the old-style (2008) `crs` member names another CRS."""
    if member is None:
        return "EPSG:4326"
    name = None
    if isinstance(member, dict) and isinstance(member.get("properties"), dict):
        props = member["properties"]
        if member.get("type") == "name":
            name = props.get("name")
        elif member.get("type") == "EPSG" and props.get("code") is not None:
            name = f"EPSG:{props['code']}"
    if not isinstance(name, str):
        raise LedgerError(
            "无法理解 crs 成员 cannot understand the 'crs' member: expected "
            '{"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}}',
            path=where,
            field="crs",
        )
    if "CRS84" in name.upper():
        return "EPSG:4326"
    code = re.search(r"(\d+)$", name)
    if "EPSG" in name.upper() and code:
        return f"EPSG:{int(code[1])}"
    try:
        return _crs_label(pyproj.CRS.from_user_input(name))
    except pyproj.exceptions.CRSError:
        raise LedgerError(f"未知坐标系 unknown CRS '{name}'", path=where, field="crs") from None


def _megabytes(size: int) -> str:
    value = size / _MB
    if value >= 0.1:
        return f"{value:.1f}".removesuffix(".0")
    return f"{value:.2g}"
