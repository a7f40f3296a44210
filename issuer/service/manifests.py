"""The trust bundle's manifest (``core.manifest``) is signed where the parts it names change,
never when the bundle is read: a transaction that publishes a trust list or a status list,
or appends to the log, notes the part (``seal(uow, ctx)``), and as it commits
(``UnitOfWork.before_commit``) the manifest is signed again and stored.

It is signed last in the transaction and under the log's lock (``log_state``, the last lock
every writer of the bundle takes): manifests are signed one after another, each from the
one before it and the parts its own transaction changed, so the stored manifest always
names the parts committed. A GET reads it with the parts and signs nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from issuer.core import cose, suites, trust
from issuer.core.errors import IssuerError
from issuer.core.manifest import Manifest, open_manifest, read_unverified
from issuer.core.statuslist import parse_payload
from issuer.service.context import Context
from issuer.store.uow import UnitOfWork

HOOK = "bundle-manifest"


class _OwnLog:
    """The log key, as ``open_manifest`` looks signers up (the service's own manifests)."""

    def __init__(self, key: trust.LogKey) -> None:
        self._key = key

    def log_key(self, kid: bytes) -> trust.LogKey | None:
        return self._key if kid == self._key.kid else None


class Seal:
    """What one transaction changed of the bundle; when it commits, signs the manifest."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._trust_list: bytes | None = None
        self._status_lists: dict[str, bytes] = {}
        self._tree_head: bytes | None = None
        self._everything = False
        self._latest: datetime | None = None
        """The latest time a part noted here was signed."""

    def trust_list(self, signed: bytes, at: datetime) -> None:
        self._trust_list = signed
        self._signed_at(at)

    def status_list(self, organization: str, signed: bytes, at: datetime) -> None:
        self._status_lists[organization] = signed
        self._signed_at(at)

    def tree_head(self, signed: bytes, at: datetime) -> None:
        self._tree_head = signed
        self._signed_at(at)

    def everything(self) -> None:
        """Sign from every part as stored, not from the manifest before (none was stored)."""
        self._everything = True

    def _signed_at(self, at: datetime) -> None:
        at = at.replace(microsecond=0)
        self._latest = at if self._latest is None or at > self._latest else self._latest

    def __call__(self, uow: UnitOfWork) -> None:
        uow.log.hold_frontier()
        key = self._ctx.keys.log_key()
        public = trust.LogKey.of("", key)  # no name in a kid
        stored = uow.manifests.latest()
        before = None if stored is None or self._everything else _LAST.opened(stored.signed, public)
        manifest = self._changed(before) if before is not None else _from_stored_parts(uow, suites.of_signer(key))
        if manifest is None:
            return  # no trust list yet: nothing to bind
        # Never older than the manifest before: a puller refuses a manifest that goes back.
        times = [manifest.issued_at, *([self._latest] if self._latest else []), *([stored.issued_at] if stored else [])]
        manifest = replace(manifest, issued_at=max(times))
        signed = manifest.sign(key, public.kid)
        uow.manifests.save(manifest.issued_at, signed)
        _LAST.signed(signed, public, manifest)

    def _changed(self, before: Manifest) -> Manifest:
        lists: Mapping[str, bytes] = {
            **before.status_lists,
            **{code: before.digest(signed) for code, signed in self._status_lists.items()},
        }
        return Manifest(
            before.issued_at,
            before.digest(self._trust_list) if self._trust_list is not None else before.trust_list,
            before.digest(self._tree_head) if self._tree_head is not None else before.tree_head,
            lists,
            before.suite,
        )


def seal(uow: UnitOfWork, ctx: Context) -> Seal:
    """The transaction's seal, registered to sign the manifest as it commits."""
    return uow.before_commit(HOOK, Seal(ctx))


class _LastManifest:
    """The manifest this process signed or opened last, by its bytes and the log key. Every
    issuance signs the manifest from the stored one, which is most often the one this
    process just signed: bytes equal to those it signed or checked need no second check
    (a rolled-back one is never stored, so its bytes never match)."""

    def __init__(self) -> None:
        self._last: tuple[bytes, bytes, Manifest] | None = None

    def signed(self, signed: bytes, public: trust.LogKey, manifest: Manifest) -> None:
        self._last = (signed, public.public_key_raw, manifest)

    def opened(self, signed: bytes, public: trust.LogKey) -> Manifest | None:
        last = self._last  # one read: another thread may replace it meanwhile
        if last is not None and last[0] == signed and last[1] == public.public_key_raw:
            return last[2]
        try:
            manifest = open_manifest(signed, _OwnLog(public))
        except IssuerError:
            return None  # signed by another log key, or damaged: signed again from the parts
        self.signed(signed, public, manifest)
        return manifest


_LAST = _LastManifest()


def _from_stored_parts(uow: UnitOfWork, suite: suites.Suite) -> Manifest | None:
    """The manifest of the parts as this transaction sees them, to be signed in ``suite``,
    dated the latest time any of them was signed (``None`` before the first trust list)."""
    row = uow.trust_lists.latest()
    if row is None:
        return None
    lists = {s.organization_code: s.signed for s in uow.status_lists.all()}
    head = uow.log.latest_head()
    times = [row.issued_at.replace(microsecond=0), *([head.timestamp] if head else [])]
    times += [t for t in map(_signed_at, lists.values()) if t is not None]
    return Manifest.of(max(times), row.signed, head.signed if head else None, lists, suite)


def _signed_at(status_list: bytes) -> datetime | None:
    try:
        return parse_payload(cose.parse(status_list).payload).issued_at
    except IssuerError:
        return None  # a damaged list: the storage audit's finding, not a reason to stop


def names(manifest: bytes, trust_list: bytes, tree_head: bytes | None, status_lists: Mapping[str, bytes]) -> bool:
    """Whether ``manifest`` names exactly these parts (its signature unchecked: the
    service's own, read back with the parts)."""
    try:
        named = read_unverified(manifest)
    except IssuerError:
        return False
    return named == Manifest.of(named.issued_at, trust_list, tree_head, status_lists, named.suite)
