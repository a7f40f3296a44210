"""What validating a roster gives: a ``RosterProblem`` per problem of a cell or a row, and
the ``RosterReport`` with the valid rows (``ValidRow``, kept in a temporary file)."""

from __future__ import annotations

import io
import pickle
import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from issuer.core import identity
from issuer.core.redaction import mask_documents
from issuer.service.issuing import Imprint, IssueRequest, Prepared
from issuer.service.roster.columns import BY_KEY


@dataclass(frozen=True)
class RosterProblem:
    row: int
    column: str | None
    """The column's Chinese header (``证件号码``); ``None`` for a problem of the whole row."""
    field: str | None
    value: str
    """The cell as read; document numbers masked (``1101**********002X``) wherever they stand."""
    code: str
    message: str
    message_zh: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "value": self.value,
            "code": self.code,
            "message": self.message,
            "message_zh": self.message_zh,
        }

    def unlocated(self) -> tuple[str, str]:
        """The messages without where the problem is (``cell_problem``'s prefix), for a
        form that shows each beside its field: ``为空，必须填写``."""
        en, zh = where(self.row, self.field)
        return (
            self.message.removeprefix(en).removeprefix(": "),
            self.message_zh.removeprefix(zh).removeprefix("："),
        )


def _masked(key: str | None, text: str) -> str:
    if key == "document_number" and text:
        return identity.mask(identity.normalize_document_number(text))
    return mask_documents(text)


def where(row: int, key: str | None) -> tuple[str, str]:
    """A cell named by its row and its column's Chinese header (a row alone when ``key`` is
    None), in English and Chinese."""
    if key is None:
        return f"row {row}", f"第{row}行"
    column = BY_KEY[key]
    return f"row {row}, {column.zh} ({column.en})", f"第{row}行“{column.zh}”"


def cell_problem(
    row: int, key: str | None, text: str, code: str, message: str, message_zh: str, *, continues: bool = False
) -> RosterProblem:
    """A problem as reports keep and show it: its messages begin with where it is, as the
    office finds it in the roster (``row 2, 证件号码 (document number): …`` /
    ``第2行“证件号码”：…``; with ``continues`` the Chinese message goes on without the colon:
    ``第3行“姓名”为空，必须填写``), so that a message read alone (a CLI line, a cell of the
    result sheet, a log) still says where to look. Any document number in the cell or the
    messages (a photo named after it, a number in the wrong column) is masked."""
    en, zh = where(row, key)
    message, message_zh = f"{en}: {message}", f"{zh}{'' if continues else '：'}{message_zh}"
    column = BY_KEY[key].zh if key else None
    return RosterProblem(
        row, column, key, _masked(key, text), code, mask_documents(message), mask_documents(message_zh)
    )


@dataclass(frozen=True)
class ValidRow:
    row: int
    request: IssueRequest
    """Without the photo: a roster's photos are read again from the archive when issued."""
    prepared: Prepared
    """``issuing.prepare``'s result (with the scrypt commitment), for the issuing step."""
    photo_member: str | None = None
    """The photo's name in the photos archive."""


class ValidRows:
    """The valid rows of a roster, in order, kept in a temporary file rather than in
    memory: a roster of tens of thousands of rows is validated whole before any is issued.
    The rows hold document numbers, so the file holds them encrypted (AES-GCM) under a key
    that lives only in this object (each row's nonce is its index: the key encrypts
    nothing else): nothing readable is left on disk. Rows are appended at the end of the
    file; reading them moves back to its start and ends there."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the report
        self._cipher = AESGCM(AESGCM.generate_key(bit_length=128))
        self._count = 0
        weakref.finalize(self, self._file.close)

    def append(self, row: ValidRow) -> None:
        nonce = self._count.to_bytes(12, "big")
        sealed = self._cipher.encrypt(nonce, pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL), None)
        self._file.write(len(sealed).to_bytes(4, "big") + sealed)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[ValidRow]:
        self._file.seek(0)
        try:
            for index in range(self._count):
                sealed = self._file.read(int.from_bytes(self._file.read(4), "big"))
                row: ValidRow = pickle.loads(self._cipher.decrypt(index.to_bytes(12, "big"), sealed, None))
                yield row
        finally:
            self._file.seek(0, io.SEEK_END)


@dataclass
class RosterReport:
    rows: int = 0
    problems: list[RosterProblem] = field(default_factory=list)
    valid: ValidRows = field(default_factory=ValidRows)
    issue_date: date | None = None
    imprint: Imprint | None = None
    """What the organization printed when the rows were checked for printability."""

    @property
    def valid_rows(self) -> int:
        return len(self.valid)

    @property
    def invalid_rows(self) -> int:
        return self.rows - self.valid_rows

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """The report as the API returns it (counts and problems; no personal data)."""
        return {
            "rows": self.rows,
            "valid_rows": self.valid_rows,
            "invalid_rows": self.invalid_rows,
            "issue_date": self.issue_date.isoformat() if self.issue_date else None,
            "problems": [p.to_dict() for p in self.problems],
        }
