"""The one error the plan parser raises: a file that is not a plan document it can read."""

from __future__ import annotations


class PlanError(ValueError):
    """A plan file could not be parsed; the message says what was expected and what was found.

    `path` is the file (or "<text>"), `reason` the message without the path, so callers can
    show either.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")
