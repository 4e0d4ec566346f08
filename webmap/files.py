"""Files the command line writes (reports, templates): only inside the allowed folder, and
whole or not at all."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from geo.files import write_atomically

__all__ = ["OutputError", "allowed_folder", "output_path", "write_atomically"]


class OutputError(ValueError):
    """An output path the command may not or cannot write."""


def allowed_folder(config: Mapping[str, Any]) -> Path:
    """The one folder commands write into: LUTU_REPORT_DIR, else the current folder."""
    return Path(config.get("REPORT_DIR") or os.getcwd())


def output_path(out: str | None, default_name: str, allowed_dir: Path) -> Path:
    """Where the CLI writes: `out` (relative to the allowed folder) or the report's own name
    there. A path that leads out of the allowed folder is refused."""
    base = allowed_dir.resolve()
    target = (base / (out or default_name)).resolve()
    if target != base and base not in target.parents:
        raise OutputError(
            f"输出路径 {out} 不在报告文件夹 {base} 内（换个文件夹运行，或设置 LUTU_REPORT_DIR） "
            f"output path {out} is outside the report folder {base} "
            "(run from another folder or set LUTU_REPORT_DIR)"
        )
    if target.is_dir():
        target = target / default_name
    if not target.parent.is_dir():
        raise OutputError(
            f"输出文件夹 {target.parent} 不存在 output folder {target.parent} does not exist"
        )
    return target
