"""The storage audit (``issuer audit --instance``): the service's own database checked
against what was signed, so that changes made with direct SQL show.

- the transparency log as any auditor checks it (``core.auditor``), against the bundle the
  service publishes: entries that do not read or hash to the signed tree head are named;
- every certificate row against its stored credential and its organization's latest signed
  status list (``integrity``): a changed name, field or revocation is ``record_damaged``;
- the audit trail against its checkpoints in the log (``audit``): the first event broken,
  rewritten or deleted."""

from __future__ import annotations

from collections.abc import Iterator

from issuer.core import auditor
from issuer.core.errors import NotFound
from issuer.service.audit import AuditTrail
from issuer.service.context import Context
from issuer.service.integrity import RecordCheck
from issuer.service.log import MAX_ENTRIES_PER_PAGE, TransparencyLog
from issuer.service.publishing import Publishing

PAGE = 500


class StorageAudit:
    def __init__(
        self, ctx: Context, records: RecordCheck, log: TransparencyLog, publishing: Publishing, trail: AuditTrail
    ) -> None:
        self._ctx = ctx
        self._records = records
        self._log = log
        self._publishing = publishing
        self._trail = trail

    def run(self) -> auditor.AuditReport:
        """Every finding; raises ``NotFound`` when nothing is published yet, ``TrustError``
        when the latest tree head itself cannot be trusted."""
        head = self._log.latest_head()
        if head is None:
            raise NotFound("log_empty", "the log is empty", "日志为空")
        store = self._publishing.parts().store()
        report = auditor.audit(store, head.signed, self._entries(head.tree_size))
        broken = self._trail.check()
        if broken is not None:
            report.findings.append(auditor.Finding(broken.code, broken.detail, broken.detail_zh))
        now, after = self._ctx.clock(), 0
        while True:
            with self._ctx.reading() as uow:
                page = uow.certificates.after(after, PAGE)
            for record in page:
                checked = self._records.check(record, now, store)
                if checked.damaged:
                    fields = ", ".join(checked.damage)
                    report.findings.append(
                        auditor.Finding(
                            "record_damaged",
                            f"{record.number}: {fields} disagree(s) with the signed credential or status list",
                            f"证书{record.number}的记录（{fields}）与签名凭证或状态列表不一致",
                            record.log_index,
                            record.number,
                        )
                    )
            if len(page) < PAGE:
                return report
            after = page[-1].id

    def _entries(self, size: int) -> Iterator[tuple[int, bytes]]:
        for start in range(0, size, MAX_ENTRIES_PER_PAGE):
            yield from self._log.entries(start, min(start + MAX_ENTRIES_PER_PAGE, size))
