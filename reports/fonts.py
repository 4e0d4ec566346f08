"""The CJK font reports are written in, found on the system and checked glyph by glyph.

matplotlib and WeasyPrint do not fail without a CJK font: they print boxes (.notdef) and only
warn. So the font is located by fontconfig (not matplotlib's cache, which can be stale and
hide a newly installed font), registered with matplotlib by path, and every string a report
prints is checked against the font's character map first; a missing glyph is an error.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from reports.errors import FontError

FAMILY = "Noto Sans CJK SC"  # the Simplified Chinese face: WeasyPrint also needs lang="zh-CN"
INSTALL_HINT = (
    "install a CJK font, e.g. `sudo apt-get install fonts-noto-cjk` (Debian/Ubuntu), "
    "or set LUTU_REPORT_FONT to a .ttc/.otf file that has Simplified Chinese"
)
_SEARCH_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")


@dataclass(frozen=True)
class ReportFont:
    regular: Path
    bold: Path
    family: str


def _fc_match(style: str) -> Path | None:
    if shutil.which("fc-list") is None:
        return None
    out = subprocess.run(
        ["fc-list", f":family={FAMILY}:style={style}", "file"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    files = sorted(line.split(":")[0].strip() for line in out.splitlines() if line.strip())
    return Path(files[0]) if files else None


def _glob(name: str) -> Path | None:
    for folder in _SEARCH_DIRS:
        found = sorted(Path(folder).rglob(name)) if Path(folder).is_dir() else []
        if found:
            return found[0]
    return None


@lru_cache(maxsize=4)
def find_font(override: str | None = None) -> ReportFont:
    """The regular and bold files of the report font; raises FontError with an install hint."""
    if override:
        path = Path(override)
        if not path.is_file():
            raise FontError(f"report font {path} does not exist; {INSTALL_HINT}")
        return ReportFont(path, path, _family_of(path))
    regular = _fc_match("Regular") or _glob("NotoSansCJK-Regular.ttc")
    if regular is None:
        raise FontError(f"no CJK font ({FAMILY}) found; {INSTALL_HINT}")
    bold = _fc_match("Bold") or _glob("NotoSansCJK-Bold.ttc") or regular
    return ReportFont(regular, bold, FAMILY)


def _family_of(path: Path) -> str:
    return _face(path)[0]


@lru_cache(maxsize=4)
def _face(path: Path) -> tuple[str, frozenset[int]]:
    """The family name and character map of a font file; of a collection, its Simplified
    Chinese (SC) face. The file is read and closed here."""
    from fontTools.ttLib import TTCollection, TTFont, TTLibError

    # Our own file handle: closed whatever fontTools raises on a file that is no font.
    try:
        with open(path, "rb") as fh:
            if path.suffix.lower() == ".ttc":
                fonts = TTCollection(fh, lazy=True).fonts
            else:
                fonts = [TTFont(fh, lazy=True)]
            names = [font["name"].getDebugName(1) or "" for font in fonts]
            best = next((i for i, name in enumerate(names) if "SC" in name), 0)
            return names[best] or FAMILY, frozenset(fonts[best].getBestCmap() or {})
    except (OSError, TTLibError, KeyError, AssertionError) as exc:
        raise FontError(f"report font {path} cannot be read ({exc}); {INSTALL_HINT}") from None


def _charmap(path: Path) -> frozenset[int]:
    return _face(path)[1]


def check_glyphs(font: ReportFont, texts: Iterable[str], where: str = "report") -> None:
    """Raise FontError naming the characters the font cannot write (instead of boxes)."""
    have = _charmap(font.regular)
    missing = sorted(
        {ch for text in texts for ch in text if not ch.isspace() and ord(ch) not in have}
    )
    if missing:
        shown = "".join(missing[:20])
        raise FontError(
            f"the font {font.regular.name} has no glyph for {shown!r} in the {where}; "
            f"{INSTALL_HINT}"
        )


@lru_cache(maxsize=4)
def use_in_matplotlib(font: ReportFont) -> str:
    """Register the font with matplotlib by file (bypassing its cache); returns the family."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    if font.family not in names:
        font_manager.fontManager.addfont(str(font.regular))
        if font.bold != font.regular:
            font_manager.fontManager.addfont(str(font.bold))
    return font.family
