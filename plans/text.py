"""Raw plan text: decoding bytes, and cleaning lines while keeping offsets into the raw text.

The parser never edits `Document.raw`; it reads cleaned copies of its lines instead. A
cleaned line (`Clean`) remembers, for each of its characters, which raw characters it came
from, so anything found in cleaned text (a target, a deadline) maps back to an exact `Span`.

Cleaning is by rule, not per file: markup leftovers (`#`, `**`, `[bookmark: …]`, HTML tags,
`&nbsp;`) are set aside as noise, whitespace is dropped wherever it touches a Chinese
character (`实施 方案`, `到 2025 年`) and kept as one space only between two Latin letters or
digits, and full-width digits and Latin letters become ASCII.
"""

from __future__ import annotations

import codecs
import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from plans.errors import PlanError
from plans.model import Span

# Whitespace as the cleaner sees it (zero-width characters and stray BOMs included).
WHITESPACE = frozenset(" \t\r\n\f\v\u3000\xa0\u2002\u2003\u2009\u200b\u200c\u200d\ufeff")

_BINARY_MAGIC = (
    (b"%PDF", "a PDF file (extract its text first)"),
    (b"PK\x03\x04", "a ZIP archive (a .docx/.xlsx? save it as plain text first)"),
    (b"\xd0\xcf\x11\xe0", "an OLE2 file (a .doc/.xls? save it as plain text first)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
)


def decode(data: bytes, path: str = "<bytes>") -> str:
    """Bytes of a plan file → text: UTF-8 (with or without BOM), else GB18030 (covers GBK).

    Raises PlanError for an empty file, a binary file (NUL bytes, a known binary signature,
    control characters) and bytes that are neither UTF-8 nor GB18030.
    """
    if not data:
        raise PlanError(path, "empty file: expected the text of a plan document, found 0 bytes")
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):  # Notepad's "Unicode": the only text with NUL bytes we accept
            try:
                return check_text(data[len(bom) :].decode(codec), path)
            except UnicodeDecodeError as exc:
                raise PlanError(
                    path, f"starts with a {codec} BOM but is not {codec}: {exc}"
                ) from exc
    for magic, what in _BINARY_MAGIC:
        if data.startswith(magic):
            raise PlanError(path, f"binary file: expected plain text, found {what}")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise PlanError(
            path,
            "binary file: expected plain text (UTF-8 or GB18030), found a NUL byte at offset "
            f"{nul}",
        )
    if data.startswith(codecs.BOM_UTF8):
        try:
            return check_text(data[len(codecs.BOM_UTF8) :].decode("utf-8"), path)
        except UnicodeDecodeError as exc:
            raise PlanError(path, f"starts with a UTF-8 BOM but is not UTF-8: {exc}") from exc
    try:
        return check_text(data.decode("utf-8"), path)
    except UnicodeDecodeError as utf8_error:
        try:
            return check_text(data.decode("gb18030"), path)
        except UnicodeDecodeError as exc:
            bad = data[exc.start : exc.start + 4].hex(" ")
            raise PlanError(
                path,
                "undecodable file: expected text in UTF-8 or GB18030/GBK, found bytes that are "
                f"neither (UTF-8 fails at offset {utf8_error.start}, GB18030 at offset "
                f"{exc.start}: {bad})",
            ) from exc


def check_text(text: str, path: str = "<text>") -> str:
    """Refuse text that is empty, whitespace only, or binary data decoded by accident."""
    if not text.strip("".join(WHITESPACE)):
        raise PlanError(
            path,
            f"empty file: expected the text of a plan document, found only whitespace "
            f"({len(text)} characters)",
        )
    if "\x00" in text:
        raise PlanError(path, f"binary data: found a NUL character at offset {text.index(chr(0))}")
    controls = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in WHITESPACE)
    private = sum(1 for c in text if unicodedata.category(c) in ("Co", "Cs"))
    if controls > max(2, len(text) // 1000) or private > max(2, len(text) // 100):
        raise PlanError(
            path,
            f"binary data: expected text, found {controls} control and {private} unassigned "
            f"characters in {len(text)}; is this really a text file?",
        )
    return text


# ---------------------------------------------------------------------------------------------
# Cleaned text with offsets


@dataclass
class Clean:
    """Cleaned text; `starts[i]:ends[i]` is the raw slice character i came from."""

    text: str = ""
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.text)

    def span(self, a: int, b: int) -> Span:
        """The raw span of cleaned characters a..b (b exclusive, b > a)."""
        return Span(self.starts[a], self.ends[b - 1])

    def append(self, char: str, start: int, end: int) -> None:
        self.text += char
        self.starts.append(start)
        self.ends.append(end)

    def extend(self, other: Clean) -> None:
        self.text += other.text
        self.starts.extend(other.starts)
        self.ends.extend(other.ends)

    def slice(self, a: int, b: int) -> Clean:
        return Clean(self.text[a:b], self.starts[a:b], self.ends[a:b])

    @staticmethod
    def join(parts: Iterable[Clean]) -> Clean:
        out = Clean()
        for part in parts:
            out.extend(part)
        return out


_FULLWIDTH = {chr(c): chr(c - 0xFEE0) for c in range(0xFF10, 0xFF1A)}  # ０-９
_FULLWIDTH.update({chr(c): chr(c - 0xFEE0) for c in range(0xFF21, 0xFF3B)})  # Ａ-Ｚ
_FULLWIDTH.update({chr(c): chr(c - 0xFEE0) for c in range(0xFF41, 0xFF5B)})  # ａ-ｚ
_FULLWIDTH.update({"％": "%", "／": "/"})

# Markup left by web pages, markdown conversion and Word: set aside as noise.
_MARKUP = re.compile(
    r"\*\*|__|~~"
    r"|\[bookmark:[^\]\n]*\]"
    r"|<!--.*?-->"
    r"|</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>\n]*)?/?>"
    r"|&(?:nbsp|ensp|emsp|thinsp|zwj|zwnj);|&#(?:160|12288|x[aA]0|x3000);"
)
_HEADING_MARKUP = re.compile(r"[ \t\u3000]*(#{1,6}[ \t\u3000]*|>[ \t\u3000]*)")  # at line start
_ENTITY = re.compile(r"&(?:[A-Za-z]{2,8}|#\d{1,6}|#[xX][0-9A-Fa-f]{1,6});")


def is_cjk(char: str) -> bool:
    """A Chinese character or CJK/full-width punctuation (whitespace next to it is noise)."""
    o = ord(char)
    return (
        0x2E80 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or 0xFE30 <= o <= 0xFE4F
        or 0xFF00 <= o <= 0xFFEF
        or 0x20000 <= o <= 0x3FFFF
        or char in "“”‘’—…·"
    )


def width(text: str) -> int:
    """Display width: Chinese and full-width characters count 2, the rest 1."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


@dataclass
class Line:
    """One raw line, cleaned: content, markup set aside, and where its content starts/ends."""

    no: int  # 1-based line number
    start: int  # raw offset of the line
    end: int  # raw offset of its end (line terminator excluded)
    clean: Clean
    markup: list[Span]  # markup pieces on this line (noise)
    first: int | None  # raw offset of the first content character, None for a blank line
    last: int | None  # raw offset just after the last content character
    kind: str = "text"  # blank / text / heading / watermark / page

    @property
    def text(self) -> str:
        return self.clean.text

    @property
    def blank(self) -> bool:
        return self.first is None


def split_lines(raw: str) -> list[Line]:
    """Raw text → cleaned lines (terminators \\n, \\r\\n and \\r)."""
    lines = []
    pos = 0
    for no, match in enumerate(re.finditer(r"[^\r\n]*(\r\n|\r|\n|$)", raw), start=1):
        if match.start() == len(raw) and match.group() == "":
            break
        text_end = match.end() - len(match.group(1))
        lines.append(clean_line(raw, match.start(), text_end, no))
        pos = match.end()
        if pos >= len(raw):
            break
    return lines


def clean_line(raw: str, start: int, end: int, no: int = 0) -> Line:
    """Clean raw[start:end]: set markup aside, drop whitespace that touches CJK, map offsets."""
    markup: list[Span] = []
    lead = _HEADING_MARKUP.match(raw, start, end)
    cursor = start
    if lead and lead.group(1):
        markup.append(Span(lead.start(1), lead.end(1)))
        cursor = lead.end(1)
    for m in _MARKUP.finditer(raw, cursor, end):
        markup.append(Span(m.start(), m.end()))
    # Tokens: (char, start, end, kind) with kind "c" content or "w" whitespace.
    tokens: list[tuple[str, int, int, str]] = []
    i = cursor
    marks = iter(markup[1:] if lead and lead.group(1) else markup)
    nxt = next(marks, None)
    while i < end:
        if nxt is not None and i == nxt.start:
            tokens.append((" ", nxt.start, nxt.end, "w"))  # markup separates like a space
            i = nxt.end
            nxt = next(marks, None)
            continue
        c = raw[i]
        if c == "&":
            ent = _ENTITY.match(raw, i, end)
            if ent:
                decoded = html.unescape(ent.group())
                if len(decoded) == 1:
                    tokens.append((decoded, i, ent.end(), "w" if decoded in WHITESPACE else "c"))
                    i = ent.end()
                    continue
        if c in WHITESPACE:
            tokens.append((c, i, i + 1, "w"))
        else:
            tokens.append((_FULLWIDTH.get(c, c), i, i + 1, "c"))
        i += 1
    clean = Clean()
    content = [t for t in tokens if t[3] == "c"]
    first = content[0][1] if content else None
    last = content[-1][2] if content else None
    prev: tuple[str, int, int, str] | None = None
    pending: tuple[str, int, int, str] | None = None  # first whitespace token of a run
    for tok in tokens:
        if tok[3] == "w":
            if prev is not None and pending is None:
                pending = tok
            continue
        if pending is not None and prev is not None:
            a, b = prev[0], tok[0]
            if a.isascii() and b.isascii() and a.isalnum() and b.isalnum():
                clean.append(" ", pending[1], pending[1] + 1)
        pending = None
        clean.append(tok[0], tok[1], tok[2])
        prev = tok
    # "．" between digits is a decimal point.
    if "．" in clean.text:
        t = clean.text
        clean.text = "".join(
            "."
            if ch == "．" and 0 < k < len(t) - 1 and t[k - 1].isdigit() and t[k + 1].isdigit()
            else ch
            for k, ch in enumerate(t)
        )
    return Line(no, start, end, clean, markup, first, last, "text" if content else "blank")


def squeeze(text: str) -> str:
    """Text without any whitespace: to compare raw slices with cleaned text."""
    return "".join(c for c in text if c not in WHITESPACE)
