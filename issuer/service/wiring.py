"""The composition root: every use case built once per process, each handed the ports it
needs at construction. Nothing in ``issuer/service`` reaches into this object; the API, the
web pages and the command line call the use cases on it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from issuer import config as settings
from issuer.core import suites
from issuer.core.suites import Suite
from issuer.service.accounts import Accounts
from issuer.service.apikeys import ApiKeys
from issuer.service.audit import AuditTrail
from issuer.service.batches import Batches
from issuer.service.certificates import Certificates
from issuer.service.context import Clock, Context, Keys, utc_now
from issuer.service.drawing import Chunk, Drawing
from issuer.service.images import Images
from issuer.service.integrity import RecordCheck
from issuer.service.issuing import Issuing
from issuer.service.jobs import Handler, JobQueue, Validation, make_queue
from issuer.service.log import TransparencyLog
from issuer.service.metrics import Metrics, multiprocess_folder
from issuer.service.pii import DocumentCipher, upload_aead
from issuer.service.publishing import Publishing
from issuer.service.readiness import Readiness
from issuer.service.registry import Registry
from issuer.service.revoking import Revoking
from issuer.service.rework import Reworking
from issuer.service.sequencer import Sequencer
from issuer.service.storage_audit import StorageAudit
from issuer.service.upkeep import Ages, Upkeep
from issuer.service.uploads import Uploads
from issuer.service.validations import ValidationSlots
from issuer.service.verifying import Verifying
from issuer.store.db import Database, Pool, database_url
from issuer.store.keystore import KeyRing, KeyStore
from issuer.store.metrics import MetricsReader
from issuer.store.pkcs11 import TokenKeys
from issuer.store.pkcs11_session import Token
from issuer.store.redisprobe import RedisProbe
from issuer.store.uow import sql_units
from issuer.store.verification import VerificationReader


@dataclass(frozen=True)
class UseCases:
    ctx: Context
    database: Database
    keystore: KeyStore
    registry: Registry
    issuing: Issuing
    revoking: Revoking
    certificates: Certificates
    images: Images
    verifying: Verifying
    publishing: Publishing
    log: TransparencyLog
    sequencer: Sequencer
    batches: Batches
    rework: Reworking
    validations: ValidationSlots
    drawing: Drawing
    queue: JobQueue
    accounts: Accounts
    api_keys: ApiKeys
    audit: AuditTrail
    storage_audit: StorageAudit
    readiness: Readiness
    metrics: Metrics
    upkeep: Upkeep

    def close(self) -> None:
        """Stop the in-process queue (jobs not started are queued again at the next start)
        and the log's sequencer (appending what waits), and close the database connections
        (and the token session)."""
        close = getattr(self.queue, "close", None)
        if close is not None:
            close()
        self.sequencer.close()
        self.database.dispose()
        if isinstance(self.ctx.keys, TokenKeys):
            self.ctx.keys.close()


def build(
    config: Mapping[str, Any], instance_path: str, *, clock: Clock | None = None, worker: bool = False
) -> UseCases:
    """``worker``: this process runs background jobs (``issuer worker``) rather than only
    sending them."""
    reference = settings.reference_data(config)  # first: a bad file starts nothing
    pool = Pool(int(config["DATABASE_POOL"]), int(config["DATABASE_WAIT_MS"]) / 1000)
    database = Database(database_url(config, instance_path), pool)
    keystore = KeyStore(settings.keys_dir(config), config["KEY_PASSPHRASE"])
    profile, root_suite = settings.crypto_profile(config), keystore.root_suite()
    _check_profile(profile, root_suite, keystore)
    deployment_suite = profile or root_suite or suites.ED25519
    ctx = Context(
        units=sql_units(database),
        keys=_keys(config, keystore),
        cipher=DocumentCipher(config["DATA_KEY"], deployment_suite),
        qr_host=config["QR_HOST"],
        clock=clock or utc_now,
        catalogue=reference.catalogue,
        document_types=reference.document_types,
        min_holder_age=int(config["MIN_HOLDER_AGE"]),
        max_backdate_days=int(config["MAX_BACKDATE_DAYS"]),
        idempotency_retention=timedelta(hours=int(config["IDEMPOTENCY_HOURS"])),
        crypto_suite=deployment_suite,
    )
    log = TransparencyLog(ctx)
    sequencer = Sequencer(log, delay=int(config["LOG_DELAY_MS"]) / 1000)
    metrics = Metrics(MetricsReader(database), ctx.clock, folder=multiprocess_folder())
    publishing = Publishing(ctx, log)
    revoking = Revoking(ctx, log, publishing)
    issuing = Issuing(ctx, sequencer, publishing, revoking)
    certificates = Certificates(ctx)
    records = RecordCheck(ctx, publishing)
    trail = AuditTrail(ctx, log)
    batch_dir = settings.batch_dir(config, instance_path)
    drawing = Drawing(ctx, batch_dir)
    validations = ValidationSlots(ctx, int(config["MAX_VALIDATIONS_PER_ORG"]))
    # The queue runs the batches' jobs, and the batches send them: the handlers look the
    # use case up when a job runs, after both are built.
    handlers = {
        Chunk: Handler(drawing.run, drawing.fail),
        Validation: Handler(
            lambda job: batches.run_validation(job.batch_id), lambda b, e: batches.fail_validation(b, e)
        ),
    }
    queue = make_queue(config, handlers, worker=worker)
    uploads = Uploads(batch_dir / "uploads", upload_aead(config["DATA_KEY"], deployment_suite))
    batches = Batches(
        ctx,
        issuing,
        sequencer,
        drawing,
        queue,
        validations,
        uploads,
        chunk=int(config["BATCH_CHUNK"]),
        max_rows=int(config["MAX_ROSTER_ROWS"]),
        threads=int(config["VALIDATION_THREADS"]),
    )
    return UseCases(
        ctx=ctx,
        database=database,
        keystore=keystore,
        registry=Registry(ctx, log, publishing),
        issuing=issuing,
        revoking=revoking,
        certificates=certificates,
        images=Images(ctx),
        verifying=Verifying(ctx, records, certificates, VerificationReader(database), metrics.verified),
        publishing=publishing,
        log=log,
        sequencer=sequencer,
        batches=batches,
        rework=Reworking(batches, uploads, issuing),
        validations=validations,
        drawing=drawing,
        queue=queue,
        accounts=Accounts(ctx, log),
        api_keys=ApiKeys(ctx, log),
        audit=trail,
        storage_audit=StorageAudit(ctx, records, log, publishing, trail),
        readiness=Readiness(ctx, RedisProbe(config["REDIS_URL"]).ping if config["REDIS_URL"] else None),
        metrics=metrics,
        upkeep=Upkeep(ctx, publishing, log, batches, _ages(config)),
    )


def _check_profile(profile: Suite | None, root: Suite | None, keystore: KeyStore) -> None:
    """A deployment keeps the suite its root was made in: ``ISSUER_CRYPTO_PROFILE`` naming
    another stops it here rather than leave the operator believing it changed anything.
    (Unset, it names none; before the root is made, anything goes; a root in a token is
    Ed25519 only.)"""
    if profile is None or root is None or root is profile:
        return
    name = next(name for name, suite in settings.PROFILES.items() if suite is profile)
    raise settings.ConfigError(
        f"ISSUER_CRYPTO_PROFILE={name}, but the authority root under {keystore.root} is "
        f"{root.name}: the profile is chosen when the root is made"
    )


def _keys(config: Mapping[str, Any], keystore: KeyStore) -> Keys:
    """Encrypted files under the keys folder, or a PKCS#11 token (``ISSUER_KEY_BACKEND``);
    certificates are files in the keys folder with either."""
    token = settings.token_settings(config)
    if token is None:
        return KeyRing(keystore)
    return TokenKeys(keystore, Token(token.module, token.label, token.pin))


def _ages(config: Mapping[str, Any]) -> Ages:
    archive_days = int(config["ARCHIVE_DAYS"])
    return Ages(
        tree_head=timedelta(hours=int(config["TREE_HEAD_HOURS"])),
        trust_list=timedelta(days=int(config["TRUST_LIST_DAYS"])),
        archives=timedelta(days=archive_days) if archive_days else None,
    )
