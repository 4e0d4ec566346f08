"""Static map reports: per-measure, per-county and atlas PDFs (and single maps as PNG/SVG).

Rendered on the server from the same store and indicators the web pages use, offline:
`content` gathers what a page says, `cartography` draws its map with matplotlib in the local
CGCS2000 Gauss-Krüger projection, `document` lays the pages out as HTML and prints them to PDF
with WeasyPrint (searchable text, embedded fonts), `fonts` makes sure Chinese can be written.
No Flask here: the web blueprint and the CLI in `webmap/reports.py` call `build()`.
"""

from reports.content import KINDS, Report, build
from reports.errors import FontError, ReportError, ReportNotFound

__all__ = ["KINDS", "FontError", "Report", "ReportError", "ReportNotFound", "build"]
