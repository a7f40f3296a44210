"""How many rosters one organization may validate at once. Validating a roster (a dry run
or an upload) costs milliseconds of CPU a row (a scrypt commitment and the issuance checks
for each: seconds of every core for 10,000 rows), so each organization gets ``limit``
slots (``ISSUER_MAX_VALIDATIONS_PER_ORG``); one more upload is refused with
``TooManyValidations`` (HTTP 429, Retry-After) and other organizations are not affected.

A slot is a lease in the database (``validation_leases``), so it is shared by every
process of the service. An upload takes one in the transaction that records its batch
(the batch id holds it) and is answered at once; the background job that validates the
roster takes the lease over (``reclaim_in``, under a holder of its own) and keeps it while
it validates and issues (``kept``: a thread renews it every ``RENEW_EVERY``), then gives it
back, however it ends. A process killed mid-way leaves a lease that expires ``LEASE`` later
and is then taken over: a slot never stays taken for ever."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from issuer.core.errors import IssuerError
from issuer.service.context import Context
from issuer.service.principal import Principal, Role, require_role
from issuer.store.uow import UnitOfWork

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
"""How long a slot outlives a holder that stopped renewing it."""
RENEW_EVERY = 20.0
"""Seconds between renewals of a held lease (well within ``LEASE``)."""
RETRY_AFTER = 30
"""Seconds a refused client is told to wait before trying again."""


class TooManyValidations(IssuerError):
    """Every validation slot of the organization is taken: try again later."""

    kind = "rate_limited"

    def __init__(self, limit: int) -> None:
        super().__init__(
            "too_many_validations",
            f"this organization is already validating {limit} roster(s), the most it may at once;"
            f" try again in {RETRY_AFTER} s",
            f"本机构已有{limit}份花名册正在校验（同时最多{limit}份），请{RETRY_AFTER}秒后再试",
            errors={"retry_after": RETRY_AFTER, "limit": limit},
        )


class ValidationSlots:
    def __init__(self, ctx: Context, limit: int, *, renew_every: float = RENEW_EVERY) -> None:
        if limit < 1:
            raise ValueError("an organization needs at least one validation slot")
        self._ctx = ctx
        self._limit = limit
        self._renew_every = renew_every

    def refuse_if_full(self, organization_id: int) -> None:
        """``TooManyValidations`` when no slot of the organization is free now: a read, so
        that an upload is refused before its files are read and stored (``take_in``
        decides)."""
        with self._ctx.reading() as uow:
            held = uow.validation_leases.held(organization_id, self._ctx.clock())
        if held >= self._limit:
            raise TooManyValidations(self._limit)

    def take_in(self, uow: UnitOfWork, organization_id: int, holder: str) -> int:
        """Take a free slot for ``holder`` in ``uow``'s transaction (given back if it rolls
        back), or raise ``TooManyValidations``."""
        now = self._ctx.clock()
        slot = uow.validation_leases.take(organization_id, self._limit, holder, now, now + LEASE)
        if slot is None:
            raise TooManyValidations(self._limit)
        return slot

    def reclaim_in(self, uow: UnitOfWork, organization_id: int, holder: str | None, new_holder: str) -> int | None:
        """``holder``'s slot handed to ``new_holder`` (a job taking over the upload's slot, or
        that of a job that stopped), else a free one; ``None`` when every slot is held."""
        now = self._ctx.clock()
        if holder is not None:
            slot = uow.validation_leases.hand_over(organization_id, holder, new_holder, now, now + LEASE)
            if slot is not None:
                return slot
        return uow.validation_leases.take(organization_id, self._limit, new_holder, now, now + LEASE)

    def release_in(self, uow: UnitOfWork, organization_id: int, slot: int, holder: str) -> None:
        """Give ``holder``'s slot back in ``uow``'s transaction: with the change that ends
        the validation, so that nobody sees it ended with its slot still taken."""
        uow.validation_leases.release(organization_id, slot, holder)

    @contextmanager
    def held(self, principal: Principal | None) -> Iterator[None]:
        """Hold one of the principal's organization's slots for the ``with`` block, or
        raise ``TooManyValidations`` at once."""
        organization_id = require_role(principal, Role.ORG_ISSUER).organization_id
        assert organization_id is not None
        holder = secrets.token_hex(16)

        def take(uow: UnitOfWork) -> int:
            slot = self.take_in(uow, organization_id, holder)
            uow.commit()
            return slot

        with self.kept(organization_id, self._ctx.run(take), holder):
            yield

    @contextmanager
    def kept(self, organization_id: int, slot: int, holder: str) -> Iterator[None]:
        """Keep ``holder``'s lease on ``slot`` for the ``with`` block (a thread renews it),
        then give it back, however the block ends."""
        stop = threading.Event()
        renewer = threading.Thread(
            target=self._renew, args=(organization_id, slot, holder, stop), name=f"lease-{holder[:8]}", daemon=True
        )
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()
            self._release(organization_id, slot, holder)

    def _renew(self, organization_id: int, slot: int, holder: str, stop: threading.Event) -> None:
        def work(uow: UnitOfWork) -> bool:
            still = uow.validation_leases.renew(organization_id, slot, holder, self._ctx.clock() + LEASE)
            uow.commit()
            return still

        while not stop.wait(self._renew_every):
            try:
                if not self._ctx.run(work) and not stop.is_set():
                    log.warning("validation lease %s/%s was taken over: it expired while held", organization_id, slot)
                    return
            except Exception:  # the database unreachable for a while: the lease may lapse, nothing else
                log.exception("renewing validation lease %s/%s failed", organization_id, slot)

    def _release(self, organization_id: int, slot: int, holder: str) -> None:
        def work(uow: UnitOfWork) -> None:
            uow.validation_leases.release(organization_id, slot, holder)
            uow.commit()

        try:
            self._ctx.run(work)
        except Exception:  # never hide the validation's own outcome; the lease expires by itself
            log.exception("giving back validation lease %s/%s failed; it expires in %s", organization_id, slot, LEASE)
