"""What can go wrong when a report is asked for, each with a message a planner can act on."""

from __future__ import annotations


class ReportError(ValueError):
    """A report request that cannot be met (bad year, bad output path, ...)."""


class ReportNotFound(ReportError):
    """No measure, county or city with that id."""


class FontError(ReportError):
    """No font that can write the report's Chinese text: boxes would be printed instead."""
