"""The auditor: a log checked against a trust bundle, with nothing but the core.

Given the trust store (root, trust list, status lists), the log's signed tree head, its
entries from 0 and, optionally, a tree head seen before, ``audit`` reports every finding:

- the tree head is signed by a log key of the trust list and the entries hash to its root
  (with the hash of the key's suite: SHA-256, or SM3 in the 国密 profile);
  a tree head seen before is a prefix of this one (the log was only appended to);
- every entry reads and its signature is valid: a credential by its organization's key,
  checked with the verifier's own rules at the time it was logged (key valid then,
  organization registered and active, occupation × level in scope, number consistent);
  a revocation by a key of the certificate's organization; a key event by the root;
- certificate numbers are unique, and serials run 1, 2, 3 … without a gap per
  organization × year × level;
- every revocation names a logged certificate and its status-list index, and is set in
  the organization's status list; every set bit has a logged revocation;
- every key event agrees with the trust list;
- every audit-trail checkpoint is signed by a log key of the trust list and counts more
  events than the one before (the service compares them with its trail: ``checkpoints``).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from . import cose, merkle, pki
from .credential import decode_payload
from .errors import CredentialFormatError, TrustError
from .numbering import CertificateNumber
from .pki import der, root_public_key
from .serialbook import SerialBook
from .transparency import (
    AuditCheckpoint,
    Entry,
    LogFormatError,
    TreeHead,
    decode_entry,
    open_tree_head,
    read_audit_checkpoint,
    read_key_event,
    read_revoke,
)
from .trust import KeyEntry, TrustStore, load_bundle
from .verify import Check, verify_signed

FINDINGS = {
    "log_root_mismatch": ("the entries do not hash to the tree head's root", "日志条目与树头根哈希不符"),
    "log_not_append_only": ("the tree head seen before is not a prefix of this log", "此前的树头不是本日志的前缀"),
    "entry_unreadable": ("an entry cannot be read", "日志条目无法读取"),
    "bad_signature": ("a signature is not valid", "签名无效"),
    "invalid_certificate": ("a certificate breaks a rule of the trust list", "证书不符合信任列表的规定"),
    "duplicate_number": ("a certificate number is used twice", "证书编号重复"),
    "serial_gap": ("a serial number is missing", "流水号不连续"),
    "revocation_unknown_certificate": ("a revocation names no logged certificate", "撤销记录对应的证书不在日志中"),
    "revocation_not_in_status_list": ("a revocation is not in the status list", "撤销记录未体现在状态列表中"),
    "unlogged_revocation": (
        "the status list marks a certificate revoked without a log entry",
        "状态列表中的撤销没有日志记录",
    ),
    "key_event_mismatch": ("a key event disagrees with the trust list", "密钥事件与信任列表不一致"),
    "audit_checkpoint_out_of_order": (
        "an audit-trail checkpoint counts no more events than the one before",
        "审计链检查点的事件数未超过前一个",
    ),
    # Found by the service's storage audit, which also reads its own database:
    "record_damaged": ("a certificate record disagrees with its signed data", "证书记录已损坏（与签名数据不一致）"),
    "audit_chain_broken": ("an audit event does not link to the one before", "审计事件与前一事件的链接断开"),
    "audit_event_rewritten": (
        "an audit event is not the one the log anchored",
        "审计事件与日志中锚定的不一致（已被改写）",
    ),
    "audit_events_missing": ("audit events the log anchored are missing", "日志中锚定的审计事件缺失（已被删除）"),
}


@dataclass(frozen=True)
class Finding:
    code: str
    detail: str
    detail_zh: str
    index: int | None = None
    """The log entry it is about."""
    number: str | None = None

    @property
    def line(self) -> str:
        where = f"#{self.index} " if self.index is not None else ""
        title, title_zh = FINDINGS[self.code]
        return f"{where}{self.code}: {title_zh}：{self.detail_zh} / {title}: {self.detail}"

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "index": self.index,
            "number": self.number,
            "detail": self.detail,
            "detail_zh": self.detail_zh,
        }


@dataclass
class AuditReport:
    tree_head: TreeHead
    entries: int = 0
    issued: int = 0
    revoked: int = 0
    key_events: int = 0
    organizations: set[str] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)
    checkpoints: list[tuple[int, AuditCheckpoint]] = field(default_factory=list)
    """The audit-trail checkpoints whose signature is valid, with their entry index, in order."""

    @property
    def clean(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, object]:
        return {
            "tree_size": self.tree_head.tree_size,
            "root_hash": self.tree_head.root_hash.hex(),
            "entries": self.entries,
            "issued": self.issued,
            "revoked": self.revoked,
            "key_events": self.key_events,
            "audit_checkpoints": len(self.checkpoints),
            "organizations": len(self.organizations),
            "findings": [f.to_json() for f in self.findings],
        }


Series = tuple[str, int, int]
"""Organization code, two-digit year, level: what serials count within."""


@dataclass
class _State:
    """What the audit keeps while it reads the log: the tree's right edge (and its roots at
    the sizes of the tree heads seen before), a few bytes per certificate, the revoked
    indexes: memory does not grow with the log beyond that."""

    trust: TrustStore
    report: AuditReport
    earlier_sizes: frozenset[int] = frozenset()
    tree: merkle.Frontier = field(default_factory=lambda: merkle.Frontier(0))
    roots: dict[int, bytes] = field(default_factory=dict)
    """The root at each of ``earlier_sizes`` the log reached."""
    serials: dict[Series, SerialBook] = field(default_factory=dict)
    revoked: dict[str, set[int]] = field(default_factory=dict)
    """Status-list indexes revoked in the log, per organization."""

    def append(self, data: bytes) -> None:
        self.tree = self.tree.append(self.tree.tree_hash.leaf(data))[0]
        if self.tree.size in self.earlier_sizes:
            self.roots[self.tree.size] = self.tree.root()

    def book(self, series: Series) -> SerialBook:
        found = self.serials.get(series)
        if found is None:
            found = self.serials[series] = SerialBook()
        return found

    def find(self, code: str, detail: str, detail_zh: str, index: int | None = None, number: str | None = None) -> None:
        self.report.findings.append(Finding(code, detail, detail_zh, index, number))


def audit(
    trust: TrustStore,
    tree_head: bytes,
    entries: Iterable[tuple[int, bytes]],
    *,
    since: Iterable[bytes] = (),
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
) -> AuditReport:
    """Audit the log whose signed ``tree_head`` covers ``entries`` (``(index, bytes)`` from
    0, in order); ``since`` are tree heads seen before (the trust bundle's, the last audit's),
    each of which must be a prefix of this log. Raises ``TrustError`` only when a tree head
    itself cannot be trusted; everything about the log's content is a finding.

    With ``workers`` above 1, that many processes verify the certificates (each with the
    trust store rebuilt from ``trust.bundle()``) a few batches ahead of this one, which
    keeps the tree, the numbers and the revocations in log order; the report is the same."""
    head = open_tree_head(tree_head, trust)
    before = [open_tree_head(signed, trust) for signed in since]
    state = _State(
        trust, AuditReport(head), frozenset(h.tree_size for h in before), merkle.Frontier(0, (), head.tree_hash)
    )
    state.roots[0] = head.tree_hash.empty
    with closing(_verified(trust, entries, workers)) as verified:  # stops the workers on a break
        for position, (index, data, verdict) in enumerate(verified):
            if index != position:
                raise TrustError(
                    f"entry {index} came where {position} was expected", f"日志条目序号{index}应为{position}"
                )
            if position >= head.tree_size:
                break
            state.append(data)
            _entry(state, index, data, verdict)
            state.report.entries += 1
            if progress is not None:
                progress(1)
    _check_tree(state, head, before)
    _check_serials(state)
    _check_status_lists(state)
    return state.report


class _IssueVerdict(NamedTuple):
    """What the audit keeps of a certificate's verdict, in plain values (a ``Verdict``
    holds keys, which do not cross processes, and a credential crosses them slowly)."""

    number: str | None
    """The certificate's number: its credential's, or the one a forged entry claims."""
    organization: str
    year: int
    level: int
    serial: int
    read: bool
    """Whether the claims were read under a valid signature."""
    status_index: int | None
    failed_check: str | None
    detail: str
    detail_zh: str


def _issue_verdict(trust: TrustStore, entry: Entry) -> _IssueVerdict:
    verdict = verify_signed(entry.signed, trust, at=entry.logged_at, check_status=False)
    credential, failed = verdict.credential, verdict.failed_check
    number = credential.number if credential else _claimed_number(entry.signed)
    detail, detail_zh = ("", "") if failed is None else _detail(verdict.checks, failed)
    return _IssueVerdict(
        str(number) if number else None,
        str(number.org) if number else "",
        number.year if number else 0,
        number.level if number else 0,
        number.serial if number else 0,
        credential is not None,
        credential.status_index if credential else None,
        failed,
        detail,
        detail_zh,
    )


def _detail(checks: Iterable[Check], failed: str) -> tuple[str, str]:
    check = next(c for c in checks if c.name == failed)
    return check.detail, check.detail_zh


_BATCH = 256
"""Entries a worker verifies per task: enough to make the hand-over cheap, few enough that
the batches in flight (two per worker) keep memory flat."""
_worker_trust: TrustStore | None = None


def _start_worker(bundle: str) -> None:
    global _worker_trust
    _worker_trust = load_bundle(bundle)


def _verify_batch(batch: list[tuple[int, bytes]]) -> list[_IssueVerdict | None]:
    assert _worker_trust is not None
    return [_verify_entry(_worker_trust, data) for _, data in batch]


def _verify_entry(trust: TrustStore, data: bytes) -> _IssueVerdict | None:
    """The verdict on the certificate an issue entry holds; ``None`` for any other entry."""
    try:
        entry = decode_entry(data)
    except LogFormatError:
        return None
    return _issue_verdict(trust, entry) if entry.type == "issue" else None


def _verified(
    trust: TrustStore, entries: Iterable[tuple[int, bytes]], workers: int
) -> Generator[tuple[int, bytes, _IssueVerdict | None], None, None]:
    """The entries in order, each with its certificate's verdict when ``workers`` verify
    them (``None``: the entry is read here, in order)."""
    if workers <= 1:
        yield from ((index, data, None) for index, data in entries)
        return
    bundle = json.dumps(trust.bundle())
    with ProcessPoolExecutor(workers, initializer=_start_worker, initargs=(bundle,)) as pool:
        pending: deque[tuple[list[tuple[int, bytes]], Future[list[_IssueVerdict | None]]]] = deque()
        for batch in _batches(entries):
            pending.append((batch, pool.submit(_verify_batch, batch)))
            if len(pending) > 2 * workers:
                yield from _joined(*pending.popleft())
        while pending:
            yield from _joined(*pending.popleft())


def _batches(entries: Iterable[tuple[int, bytes]]) -> Iterator[list[tuple[int, bytes]]]:
    batch: list[tuple[int, bytes]] = []
    for item in entries:
        batch.append(item)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _joined(
    batch: list[tuple[int, bytes]], verdicts: Future[list[_IssueVerdict | None]]
) -> Iterator[tuple[int, bytes, _IssueVerdict | None]]:
    for (index, data), verdict in zip(batch, verdicts.result(), strict=True):
        yield index, data, verdict


def _check_tree(state: _State, head: TreeHead, before: list[TreeHead]) -> None:
    tree = state.tree
    if tree.size != head.tree_size or tree.root() != head.root_hash:
        state.find(
            "log_root_mismatch",
            f"{tree.size} entries hash to {tree.root().hex()[:16]}…, the tree head says {head.tree_size} entries "
            f"with root {head.root_hash.hex()[:16]}…",
            f"{tree.size}条日志的根哈希为{tree.root().hex()[:16]}…，树头为{head.tree_size}条、根哈希{head.root_hash.hex()[:16]}…",
        )
    for earlier in before:
        if state.roots.get(earlier.tree_size) != earlier.root_hash:
            state.find(
                "log_not_append_only",
                f"the tree head of size {earlier.tree_size} seen before does not match the first entries of this log",
                f"此前见到的大小为{earlier.tree_size}的树头与本日志的前{earlier.tree_size}条不符",
            )


def _entry(state: _State, index: int, data: bytes, verdict: _IssueVerdict | None) -> None:
    """One entry; ``verdict``: a worker has read it already, and it is a certificate."""
    if verdict is not None:
        _issue(state, index, verdict)
        return
    try:
        entry = decode_entry(data)
    except LogFormatError as exc:
        state.find("entry_unreadable", exc.message, exc.message_zh, index)
        return
    if entry.type == "issue":
        _issue(state, index, _issue_verdict(state.trust, entry))
    elif entry.type == "revoke":
        _revoke(state, index, entry)
    elif entry.type == "key":
        _key_event(state, index, entry)
    else:
        _audit_checkpoint(state, index, entry)


def _issue(state: _State, index: int, verdict: _IssueVerdict) -> None:
    state.report.issued += 1
    text, org, failed = verdict.number, verdict.organization, verdict.failed_check
    if failed is not None:
        code = "bad_signature" if failed in ("decodable", "known_key", "signature", "claims") else "invalid_certificate"
        state.find(code, f"{failed}: {verdict.detail}", f"{failed}：{verdict.detail_zh}", index, text)
    if text is None:
        return
    state.report.organizations.add(org)
    book = state.book((org, verdict.year, verdict.level))
    # A forged entry still takes its number's place in the sequence: its finding is the signature.
    book.see(verdict.serial)
    if not verdict.read:
        return
    first = book.first_read(verdict.serial)
    if first is not None:
        state.find(
            "duplicate_number",
            f"{text} was already logged as entry {first}",
            f"证书编号{text}已在第{first}条日志中出现",
            index,
            text,
        )
        return
    book.read(verdict.serial, index, verdict.status_index)


def _series(number: str) -> tuple[Series, int] | None:
    """The series and serial of a number in its canonical 22-character form."""
    if len(number) != 22 or not number[13:].isdigit():
        return None
    return (number[:13], int(number[13:15]), int(number[15])), int(number[16:])


def _claimed_number(signed: bytes) -> CertificateNumber | None:
    """The number a credential whose signature failed claims to have (for the report only)."""
    try:
        return decode_payload(cose.parse(signed).payload).number
    except CredentialFormatError:
        return None


def _signed(state: _State, index: int, entry: Entry) -> cose.Sign1 | None:
    try:
        return cose.parse(entry.signed)
    except CredentialFormatError as exc:
        state.find("entry_unreadable", exc.message, exc.message_zh, index)
        return None


def _revoke(state: _State, index: int, entry: Entry) -> None:
    state.report.revoked += 1
    message = _signed(state, index, entry)
    if message is None:
        return
    try:
        statement = read_revoke(message.payload)
    except LogFormatError as exc:
        state.find("entry_unreadable", exc.message, exc.message_zh, index)
        return
    number, org = statement.number, statement.number[:13]
    key = state.trust.key(message.kid)
    if key is None or key.organization.code != org or not message.verify(key.certificate.public_key):
        state.find(
            "bad_signature",
            f"the revocation of {number} is not signed by a key of {org}",
            f"证书{number}的撤销记录不是由机构{org}的密钥签名的",
            index,
            number,
        )
        return
    found = _series(number)
    book = state.serials.get(found[0]) if found is not None else None
    logged = book.status_index(found[1]) if book is not None and found is not None else None
    if logged is None or logged != statement.status_index:
        state.find(
            "revocation_unknown_certificate",
            f"{number} with status index {statement.status_index} was not logged before its revocation",
            f"撤销前日志中没有状态索引为{statement.status_index}的证书{number}",
            index,
            number,
        )
        return
    state.revoked.setdefault(org, set()).add(statement.status_index)
    listed = state.trust.status_list(org)
    if listed is None or statement.revoked_at > listed.issued_at:
        return  # revoked after the list in the bundle was signed: a newer bundle will show it
    if statement.status_index >= listed.size or not listed.revoked(statement.status_index):
        state.find(
            "revocation_not_in_status_list",
            f"{number} (index {statement.status_index}) is revoked in the log but not in {org}'s status list",
            f"证书{number}（索引{statement.status_index}）在日志中已撤销，但机构{org}的状态列表中未撤销",
            index,
            number,
        )


def _key_event(state: _State, index: int, entry: Entry) -> None:
    state.report.key_events += 1
    message = _signed(state, index, entry)
    if message is None:
        return
    root = state.trust.root
    if message.kid != pki.kid_of(der(root)) or not message.verify(root_public_key(root)):
        state.find("bad_signature", "a key event is not signed by the root", "密钥事件不是由根密钥签名的", index)
        return
    try:
        event = read_key_event(message.payload)
    except LogFormatError as exc:
        state.find("entry_unreadable", exc.message, exc.message_zh, index)
        return
    key = state.trust.key(event.kid)
    if key is None or key.organization.code != event.organization or not _agrees(event.event, event.at, key.entry):
        state.find(
            "key_event_mismatch",
            f"{event.organization} key {event.kid.hex()} {event.event} at {event.at.isoformat()} is not what the "
            "trust list says",
            f"机构{event.organization}密钥{event.kid.hex()}的事件（{event.event}）与信任列表不符",
            index,
        )


def _audit_checkpoint(state: _State, index: int, entry: Entry) -> None:
    message = _signed(state, index, entry)
    if message is None:
        return
    log = state.trust.log_key(message.kid)
    if log is None or not message.verify(log.public_key()):
        state.find(
            "bad_signature", "an audit checkpoint is not signed by a log key", "审计检查点不是由日志密钥签名的", index
        )
        return
    try:
        checkpoint = read_audit_checkpoint(message.payload)
    except LogFormatError as exc:
        state.find("entry_unreadable", exc.message, exc.message_zh, index)
        return
    checkpoints = state.report.checkpoints
    if checkpoints and checkpoints[-1][1].events >= checkpoint.events:
        before, earlier = checkpoints[-1]
        state.find(
            "audit_checkpoint_out_of_order",
            f"{checkpoint.events} events after entry {before}'s {earlier.events}",
            f"事件数{checkpoint.events}，而第{before}条日志为{earlier.events}",
            index,
        )
        return
    checkpoints.append((index, checkpoint))


def _agrees(event: str, at: datetime, entry: KeyEntry) -> bool:
    if event == "compromised":
        return entry.status == "compromised" and entry.compromised_at == at
    if event == "retired":
        return entry.status in ("retired", "compromised") and (entry.retired_at == at or entry.status == "compromised")
    return True  # "added": the key is in the trust list


def _check_serials(state: _State) -> None:
    for (org, year, level), book in sorted(state.serials.items()):
        missing = list(book.missing())
        if missing:
            shown = "、".join(str(CertificateNumber.parse(f"{org}{year:02d}{level}{s:06d}")) for s in missing[:10])
            more = f" (+{len(missing) - 10})" if len(missing) > 10 else ""
            state.find(
                "serial_gap",
                f"{org} {2000 + year} level {level}: {len(missing)} serial(s) missing: {shown}{more}",
                f"机构{org} {2000 + year}年{level}级缺少{len(missing)}个流水号：{shown}{more}",
                number=str(CertificateNumber.parse(f"{org}{year:02d}{level}{missing[0]:06d}")),
            )


def _check_status_lists(state: _State) -> None:
    for org, listed in sorted(state.trust.status_lists.items()):
        unexplained = set(listed.revoked_indexes()) - state.revoked.get(org, set())
        if unexplained:
            state.find(
                "unlogged_revocation",
                f"{org}'s status list marks {len(unexplained)} index(es) revoked with no revocation in the log: "
                f"{sorted(unexplained)[:10]}",
                f"机构{org}的状态列表中有{len(unexplained)}个撤销没有日志记录：{sorted(unexplained)[:10]}",
            )
