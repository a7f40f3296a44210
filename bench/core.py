"""issuer.core: signing and verifying credentials against bare Ed25519, the two signature
suites side by side (Ed25519 and SM2 over SM3, issue 19), the identity commitment, and the
size of the QR code for a typical and a worst-case credential."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import segno

from issuer.core import cose, identity, qrtext, suites
from issuer.core.credential import MAX_STATUS_INDEX, Credential, encode_payload
from issuer.core.sm2 import Sm2PrivateKey
from issuer.core.verify import verify
from tests import factories

from . import report
from .timing import Pair, Settings, measure, measure_pair

TITLE = "signing, verification, identity commitment, QR size"

QR_ERROR = "m"
WORST_NAME = "阿卜杜热依木江·买买提吐尔逊·艾合买提江"
WORST_WORK_TYPE = "城市轨道交通电动列车司机及车辆检修调试员"
WORST_EDITION = 2015
"""A non-2022 catalogue edition adds claim -7 to the payload."""
SIGN_GOAL = 0.70
"""Signing a credential runs at no less than this share of bare Ed25519 signing (issue 15)."""
VERIFY_GOAL = 0.65
"""Verifying a QR text runs at no less than this share of bare Ed25519 verification (issue 15)."""


def run(settings: Settings) -> dict[str, Any]:
    world = factories.world()
    return {
        "signing": _signing(world, settings),
        "verification": _verification(world, settings),
        "suites": _suites(world, settings),
        "commitment": _commitment(settings),
        "qr": _qr_sizes(world),
    }


# Signing and verification ----------------------------------------------------------------


@dataclass(frozen=True)
class Signed:
    """A typical credential's COSE message, its Sig_structure and its QR text."""

    message: bytes
    to_be_signed: bytes
    signature: bytes
    text: str


def _signed(world: factories.World) -> Signed:
    message = world.signer.sign(factories.credential())
    sign1 = cose.parse(message)
    tbs = cose.to_be_signed(sign1.protected, sign1.payload)
    return Signed(message, tbs, sign1.signature, qrtext.encode(message, factories.HOST))


def _compare(pair: Pair, full_label: str, bare_label: str, goal: float, path: str) -> dict[str, Any]:
    full, bare, ratio = pair.rate, pair.base, pair.ratio
    beyond_us = 1000 * (full.ms_per_call - bare.ms_per_call)
    report.row(full_label, report.count(full.median) + " /s", report.spread(full.spread))
    report.row(bare_label, report.count(bare.median) + " /s", report.spread(bare.spread))
    report.row(
        "ratio",
        f"{ratio:.2f}",
        f"median of {len(pair.ratios)} paired slices, interquartile range {pair.ratio_spread:.0%}",
    )
    report.row("time beyond Ed25519", f"{beyond_us:.0f} µs", "per credential")
    met = ratio >= goal
    report.goal(
        path, f"{ratio:.2f}×", f"{bare_label}: {report.count(bare.median)}/s", f"≥ {goal:.2f}× bare Ed25519", met
    )
    return {
        "credential": full.to_json(),
        "bare_ed25519": bare.to_json(),
        "ratio": round(ratio, 3),
        "slice_ratios": [round(r, 3) for r in pair.ratios],
        "beyond_ed25519_us": round(beyond_us, 1),
        "goal": goal,
        "meets_goal": met,
    }


def _signing(world: factories.World, settings: Settings) -> dict[str, Any]:
    signer, cred = world.signer, factories.credential()
    signed = _signed(world)
    tbs_bytes = len(signed.to_be_signed)
    report.heading(f"signing (Signer.sign: CBOR + COSE_Sign1 + Ed25519 over {tbs_bytes} B; CPU time)")
    pair = measure_pair(
        lambda: signer.sign(cred), lambda: signer.key.sign(signed.to_be_signed), settings, time.process_time
    )
    figures = _compare(pair, "credentials signed", "bare Ed25519 signatures", SIGN_GOAL, "signing a credential")
    return {**figures, "sig_structure_bytes": tbs_bytes}


def _verification(world: factories.World, settings: Settings) -> dict[str, Any]:
    signed, trust, at = _signed(world), world.store, factories.NOW
    verdict = verify(signed.text, trust, at=at)
    if not verdict.valid:
        raise RuntimeError(f"the benchmark credential does not verify: {verdict.failed_check}")
    public_key = world.signer.certificate.public_key
    checks = len(verdict.checks)
    report.heading(f"verification (verify() on the QR text: full verdict, {checks} checks; CPU time)")
    pair = measure_pair(
        lambda: verify(signed.text, trust, at=at),
        lambda: public_key.verify(signed.signature, signed.to_be_signed),
        settings,
        time.process_time,
    )
    return _compare(
        pair, "credentials verified", "bare Ed25519 verifications", VERIFY_GOAL, "offline verify, QR → verdict"
    )


# The two signature suites ----------------------------------------------------------------


def _suites(world: factories.World, settings: Settings) -> dict[str, Any]:
    """Bare signatures and COSE messages of the typical credential in each suite: the cost
    of the 国密 profile's signatures against Ed25519's, in the same run."""
    payload = encode_payload(factories.credential())
    ed25519_key, sm2_key = world.signer.key, Sm2PrivateKey.generate()
    keys = {"ed25519": (ed25519_key, world.signer.kid), "sm2-sm3": (sm2_key, suites.SM2_SM3.kid(b"bench"))}
    report.heading(f"signature suites (the typical credential's claims, {len(payload)} B; wall time, runs of 1 s)")
    settings = replace(settings, seconds=min(settings.seconds, 1.0))
    figures: dict[str, Any] = {}
    for name, (key, kid) in keys.items():
        message = cose.sign(payload, key, kid)
        parsed = cose.parse(message)
        tbs, public = cose.to_be_signed(parsed.protected, parsed.payload), key.public_key()
        rates = {
            "sign": measure(lambda k=key, t=tbs: k.sign(t), settings),  # type: ignore[misc]
            "verify": measure(lambda p=public, m=parsed, t=tbs: p.verify(m.signature, t), settings),  # type: ignore[misc]
            "cose_sign": measure(lambda k=key, i=kid: cose.sign(payload, k, i), settings),  # type: ignore[misc]
            "cose_verify": measure(lambda p=public, m=message: cose.parse(m).verify(p), settings),  # type: ignore[misc]
        }
        labels = ("bare signatures", "bare verifications", "COSE signed", "COSE parsed + verified")
        for label, rate in zip(labels, rates.values(), strict=True):
            report.row(f"{name}: {label}", report.count(rate.median) + " /s", report.spread(rate.spread))
        figures[name] = {key_: rate.to_json() for key_, rate in rates.items()} | {"cose_bytes": len(message)}
    for what in ("sign", "verify"):
        ratio = figures["sm2-sm3"][what]["per_second"] / figures["ed25519"][what]["per_second"]
        report.row(f"SM2 ÷ Ed25519, {what}", f"{ratio:.2f}", "bare, same run")
        figures[f"sm2_over_ed25519_{what}"] = round(ratio, 3)
    figures["sm2_profile"] = _sm2_profile(settings)
    return figures


def _sm2_profile(settings: Settings) -> dict[str, Any]:
    """Signing and verifying a credential in the 国密 profile against bare SM2, as ``_signing``
    and ``_verification`` do for Ed25519: an SM2 root, organization and trust list."""
    world = factories.world(suites.SM2_SM3)
    cred, text = factories.credential(), world.qr()
    parsed = cose.parse(world.signer.sign(cred))
    tbs = cose.to_be_signed(parsed.protected, parsed.payload)
    public = world.signer.certificate.public_key
    verdict = verify(text, world.store, at=factories.NOW)
    if not verdict.valid or verdict.suite != "sm2-sm3":
        raise RuntimeError(f"the SM2 benchmark credential does not verify: {verdict.failed_check}")
    sign_pair = measure_pair(lambda: world.signer.sign(cred), lambda: world.signer.key.sign(tbs), settings)
    verify_pair = measure_pair(
        lambda: verify(text, world.store, at=factories.NOW), lambda: public.verify(parsed.signature, tbs), settings
    )
    figures = {}
    for what, pair in (("signing", sign_pair), ("verification", verify_pair)):
        report.row(
            f"sm2-sm3 profile: {what}",
            f"{pair.ratio:.2f}× bare SM2",
            f"{report.count(pair.rate.median)}/s against {report.count(pair.base.median)}/s bare",
        )
        figures[what] = {"ratio": round(pair.ratio, 3), "credential": pair.rate.to_json(), "bare": pair.base.to_json()}
    return figures


# Identity commitment ---------------------------------------------------------------------


def _commitment(settings: Settings) -> dict[str, Any]:
    n, r, p = identity.SCRYPT_N, identity.SCRYPT_R, identity.SCRYPT_P
    memory = 128 * n * r
    report.heading(f"identity commitment (identity.commit: scrypt N={n}, r={r}, p={p})")
    rate = measure(lambda: identity.commit(factories.ID_NUMBER), settings)
    report.row("time per commitment", f"{rate.ms_per_call:.2f} ms", report.spread(rate.spread))
    report.row("commitments per second", report.count(rate.median) + " /s")
    report.row("memory (128·N·r)", f"{memory:,} B", f"{memory / 2**20:g} MiB")
    return {**rate.to_json(), "scrypt": {"n": n, "r": r, "p": p}, "memory_bytes": memory}


# QR size ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QrCase:
    name: str
    description: str
    credential: Credential


def _qr_cases() -> tuple[QrCase, ...]:
    typical = factories.credential()
    worst = factories.credential(
        number="Y000123000001261999999",
        name=WORST_NAME,
        level=1,
        work_type=WORST_WORK_TYPE,
        status_index=MAX_STATUS_INDEX,
    )
    worst = replace(worst, occupation_edition=WORST_EDITION)
    return (
        QrCase("typical", _describe(typical), typical),
        QrCase("worst", _describe(worst) + f", edition {WORST_EDITION}", worst),
    )


def _describe(cred: Credential) -> str:
    work_type = f"{len(cred.work_type)}-char work type" if cred.work_type else "no work type"
    return f"{len(cred.holder_name)}-char name, {work_type}, {len(factories.HOST)}-char host"


def _alphanumeric_capacity(version: int) -> int:
    """The most alphanumeric characters a QR code of ``version`` holds at level M."""
    low, high = 1, qrtext.MAX_TEXT
    while low < high:
        mid = (low + high + 1) // 2
        try:
            segno.make("A" * mid, error=QR_ERROR, version=version, boost_error=False)
        except segno.DataOverflowError:
            high = mid - 1
        else:
            low = mid
    return low


def _qr_case(world: factories.World, case: QrCase) -> dict[str, Any]:
    message = world.signer.sign(case.credential)
    text = qrtext.encode(message, factories.HOST)
    qr = segno.make(text, error=QR_ERROR, boost_error=False)
    version = int(qr.version)
    modules = version * 4 + 17
    capacity = _alphanumeric_capacity(version)
    report.heading(f"QR, {case.name} credential ({case.description})")
    report.row("QR text", f"{len(text)} chars", f"mode {qr.mode}")
    report.row("COSE_Sign1 message", f"{len(message)} B")
    report.row(f"QR version at {QR_ERROR.upper()}", str(version), f"{modules}×{modules} modules")
    report.row("spare characters at this version", str(capacity - len(text)), f"of {capacity}")
    return {
        "description": case.description,
        "text_chars": len(text),
        "cose_bytes": len(message),
        "error_correction": QR_ERROR.upper(),
        "mode": qr.mode,
        "version": version,
        "modules": modules,
        "capacity_chars": capacity,
        "spare_chars": capacity - len(text),
    }


def _qr_sizes(world: factories.World) -> dict[str, Any]:
    return {case.name: _qr_case(world, case) for case in _qr_cases()}
