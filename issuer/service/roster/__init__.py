"""Batch issuance, first step: read an exam session's roster (CSV or XLSX, Chinese or
English headers) and validate every row with the checks issuance runs, issuing nothing.

``read_roster`` streams ``RosterRow``s (spreadsheet row number and the text of every cell);
``validate_roster`` turns each into an ``IssueRequest``, runs ``issuing.prepare``, the
organization's registration and scope rule and the printability check, plus the roster's
own checks (the same person twice, a person who already holds the certificate, a photo
missing from the ZIP), and returns a ``RosterReport`` of every problem of every row and
the prepared requests of the valid rows for the issuing step.

The modules: ``columns`` (the columns and their headers), ``reading`` (CSV and XLSX,
``read_roster``), ``photos`` (the photos ZIP), ``report`` (``RosterProblem``,
``RosterReport``), ``row_checks`` (the checks of one row), ``fields`` (which column an
issuance error is about), ``checking`` (``validate_roster``) and ``template``.
"""

from issuer.service.roster.checking import CHUNK_ROWS, Progress, default_threads, validate_roster
from issuer.service.roster.columns import BY_KEY, COLUMNS, IGNORED_HEADERS, OCCUPATION_KEYS, REQUIRED, Column
from issuer.service.roster.photos import PhotoArchive
from issuer.service.roster.reading import (
    MAX_ROWS,
    RosterError,
    RosterRow,
    count_rows,
    decode_csv,
    parse_header,
    read_roster,
)
from issuer.service.roster.report import RosterProblem, RosterReport, ValidRow, ValidRows
from issuer.service.roster.template import GuideLine, column_guide, photo_rule, roster_template_xlsx

__all__ = [
    "BY_KEY",
    "CHUNK_ROWS",
    "COLUMNS",
    "IGNORED_HEADERS",
    "MAX_ROWS",
    "OCCUPATION_KEYS",
    "REQUIRED",
    "Column",
    "GuideLine",
    "PhotoArchive",
    "Progress",
    "RosterError",
    "RosterProblem",
    "RosterReport",
    "RosterRow",
    "ValidRow",
    "ValidRows",
    "column_guide",
    "count_rows",
    "decode_csv",
    "default_threads",
    "parse_header",
    "photo_rule",
    "read_roster",
    "roster_template_xlsx",
    "validate_roster",
]
