"""The pages anyone can open: the landing page (``/``), the page a phone shows after
scanning a certificate's QR code (``/V/<payload>``, or ``/check?text=`` with a pasted QR
text), and the public lookup by number + name + document number."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

import issuer.web.pages as pages
from issuer.core import identity, qrtext
from issuer.core.credential import Credential
from issuer.core.display import date_en, date_zh, level_en, level_zh
from issuer.core.errors import IssuerError
from issuer.core.explain import RECORD_DAMAGED, Revocation, record_damaged
from issuer.service.verifying import LiveVerdict, LookedUp
from issuer.service.wiring import UseCases
from issuer.web.errors import error_page
from issuer.web.i18n import language, t

bp = Blueprint("public", __name__)
bp.register_error_handler(HTTPException, error_page)

MAX_FIELD = 64
RATE_LIMITED = "rate_limited"


@dataclass
class CertificateCard:
    """What a person sees of a certificate, formatted as a Chinese reader expects."""

    status: str
    """``valid``, ``revoked``, ``reissued``, ``not_valid`` or ``unknown``: the colour."""
    headline: str = ""
    explanation: str = ""
    advice: str = ""
    rows: list[tuple[str, str]] = field(default_factory=list)
    """(label key, value)"""
    organization: list[tuple[str, str]] = field(default_factory=list)
    checked_at: str = ""
    revoked: list[tuple[str, str]] = field(default_factory=list)
    replaced_by: str | None = None
    has_commitment: bool = False
    technical: list[tuple[str, str]] = field(default_factory=list)
    """(label key, value) for the 技术详情 fold: the check, its reason code, the key id."""
    photo: str | None = None
    """The holder's photo as a ``data:`` URL (the lookup only)."""


def _when(moment: datetime) -> str:
    """``pages.when``, saying in Chinese that it is Beijing time (a public reader may be anywhere)."""
    return pages.when(moment) + ("（北京时间）" if language() == "zh" else "")


def _day(day: Any) -> str:
    return date_zh(day) if language() == "zh" else date_en(day)


def _card(app: UseCases, live: LiveVerdict) -> CertificateCard:
    verdict, plain = live.verdict, live.explanation
    zh = language() == "zh"
    card = CertificateCard(
        plain.kind,
        plain.headline_zh if zh else plain.headline_en,
        plain.detail_zh if zh else plain.detail_en,
        plain.advice_zh if zh else plain.advice_en,
        checked_at=_when(live.checked_at),
    )
    card.technical = _technical(live)
    cred = verdict.credential
    if cred is None or (verdict.status.value == "not_valid" and verdict.failed_check in ("decodable", "signature")):
        return card  # nothing signed to show
    card.rows = _certificate_rows(app, cred, live.trust.occupation_name(cred.occupation) or "")
    if cred.issued_at is not None:
        card.rows.append(("issued_at", _when(cred.issued_at)))
    if verdict.assessment_method is not None:
        _, method_zh, method_en = verdict.assessment_method
        card.rows.append(("method", method_zh if zh else method_en))
    card.has_commitment = True
    if verdict.signer is not None:
        org = verdict.signer.organization
        until = _day(org.registered_until) if org.registered_until else "—"
        card.organization = [
            ("organization", f"{org.name}（{org.code}）"),
            ("registered", f"{_day(org.registered_from)} — {until}"),
            ("org_status", org.status_at(live.checked_at) or "unregistered"),
        ]
    revocation = live.revocation
    if revocation is not None:
        card.revoked = _revoked_rows(revocation)
        card.replaced_by = revocation.replaced_by
    return card


def _certificate_rows(
    app: UseCases, cred: Credential, occupation: str, *, masked: str | None = None
) -> list[tuple[str, str]]:
    """What the signed credential states, in the page's language (the 职业分类大典 names
    occupations in Chinese only: in English the name stays Chinese, with its code); the
    masked document number where the reader proved they know it (the lookup)."""
    zh, types = language() == "zh", app.ctx.document_types
    rows = [
        ("number", str(cred.number)),
        ("name", cred.holder_name),
        ("document_type", (types.name_zh if zh else types.name_en)(cred.document_type)),
    ]
    if masked is not None:
        rows.append(("document_number", masked))
    return [
        *rows,
        ("occupation", f"{occupation}（{cred.occupation}）" if zh else f"{occupation} ({cred.occupation})"),
        ("work_type", cred.work_type or "--"),
        ("level", level_zh(cred.level) if zh else level_en(cred.level)),
        ("issue_date", _day(cred.issue_date)),
    ]


def _technical(live: LiveVerdict) -> list[tuple[str, str]]:
    check = live.verdict.deciding
    rows = []
    if check is not None:
        rows += [("failed_check", check.name), ("reason_code", check.reason)]
        rows.append(("detail", check.detail_zh if language() == "zh" else check.detail))
    elif live.damaged:
        rows.append(("reason_code", RECORD_DAMAGED))
    if live.verdict.signer is not None:
        rows.append(("key_id", live.verdict.signer.entry.kid.hex()))
    return rows


def _scan(
    payload: str,
    live: LiveVerdict,
    match: bool | None = None,
    status: int = 200,
    problem: str | None = None,
    headers: dict[str, str] | None = None,
) -> ResponseReturnValue:
    """The scan page. The number typed for a match is never written back into a page
    (``scan.js`` sends the form without leaving the page, so the box keeps it)."""
    card = _card(pages.app(), live)
    page = render_template("web/scan.html", card=card, payload=payload, match=match, problem=problem)
    return page, status, headers or {}


@bp.get("/")
def home() -> ResponseReturnValue:
    """The landing page: scan (or paste a QR text), look up, sign in to the console."""
    return render_template("web/home.html", problem=None)


@bp.get("/check")
def check() -> ResponseReturnValue:
    """A pasted QR text (the whole address, or what follows ``/V/``): its scan page."""
    text = request.args.get("text", "")[: qrtext.MAX_TEXT + 64].strip()
    payload = re.split(r"/v/", text, maxsplit=1, flags=re.IGNORECASE)[-1].strip("/ ")
    if not payload:
        return render_template("web/home.html", problem=t("home_paste_empty")), 400
    return redirect(url_for("public.scan", payload=payload), 303)


@bp.get("/V/<path:payload>")
@bp.get("/v/<path:payload>")
def scan(payload: str) -> ResponseReturnValue:
    """What a phone opens after scanning: the verdict first, then the certificate."""
    return _scan(payload, pages.app().verifying.verify_text(payload))


@bp.post("/V/<path:payload>")
@bp.post("/v/<path:payload>")
def scan_match(payload: str) -> ResponseReturnValue:
    """The employer types the holder's document number: does it match the commitment?"""
    typed = request.form.get("document_number", "")[:MAX_FIELD]
    live = pages.app().verifying.verify_text(payload)
    try:
        current_app.extensions["issuer.lookup_limiter"].hit(f"match:{request.remote_addr or 'unknown'}")
    except IssuerError as exc:
        return _scan(payload, live, None, 429, problem=_wait(exc), headers=_retry(exc))
    cred = live.verdict.credential
    found = cred is not None and bool(typed.strip()) and identity.matches(cred.document_commitment, typed)
    return _scan(payload, live, found)


@bp.route("/lookup", methods=["GET", "POST"])
def lookup() -> ResponseReturnValue:
    """The public lookup, as the national site does: by 姓名 + 证件号码 every certificate of
    that person (masked); the certificate number, when given, narrows it to that one."""
    form = {k: request.form.get(k, "")[:MAX_FIELD] for k in ("number", "name", "document_number")}
    if request.method == "GET":
        form["number"] = request.args.get("number", "")[:MAX_FIELD]  # a link from a replaced certificate
        return render_template("web/lookup.html", form=form, results=[], problem=None)
    app = pages.app()
    try:
        current_app.extensions["issuer.lookup_limiter"].hit(request.remote_addr or "unknown")
        if form["number"].strip():
            found = [app.verifying.lookup(form["number"], form["name"], form["document_number"])]
        else:
            found = app.verifying.lookup_person(form["name"], form["document_number"])
    except IssuerError as exc:
        if exc.code == RATE_LIMITED:
            return render_template("web/lookup.html", form=form, results=[], problem=_wait(exc)), 429, _retry(exc)
        return render_template("web/lookup.html", form=form, results=[], problem=t("lookup_none"))
    results = [_lookup_card(app, one) for one in found]
    return render_template("web/lookup.html", form=form, results=results, problem=None)


def _seconds(exc: IssuerError) -> int:
    return int((exc.errors or {}).get("retry_after", 60))


def _wait(exc: IssuerError) -> str:
    """How long to wait, in words: the limiter says when its window ends."""
    return t("too_many").format(seconds=_seconds(exc))


def _retry(exc: IssuerError) -> dict[str, str]:
    return {"Retry-After": str(_seconds(exc))}


def _lookup_card(app: UseCases, found: LookedUp) -> CertificateCard:
    """The certificate as its signed credential states it; a record that disagrees with its
    signed data says so (记录已损坏) and shows nothing of itself."""
    checked = found.checked
    status = checked.status
    revocation = checked.revocation
    if revocation is not None and revocation.replaced_by:
        status = "reissued"
    card = CertificateCard(status, t(status), checked_at=_when(app.ctx.clock()))
    if status == "not_valid":
        plain = record_damaged()
        zh = language() == "zh"
        card.headline = plain.headline_zh if zh else plain.headline_en
        card.explanation = plain.detail_zh if zh else plain.detail_en
        card.advice = plain.advice_zh if zh else plain.advice_en
        return card
    record, signed = checked.record, checked.credential
    assert signed is not None
    occupation = app.ctx.catalogue.occupation(signed.occupation).name
    card.rows = _certificate_rows(app, signed, occupation, masked=found.document_number_masked)
    card.photo = _data_url(found.photo)
    if checked.verdict.assessment_method is not None:
        _, method_zh, method_en = checked.verdict.assessment_method
        card.rows.append(("method", method_zh if language() == "zh" else method_en))
    signer = checked.verdict.signer
    name = signer.organization.name if signer is not None else record.organization_name
    card.organization = [("organization", f"{name}（{record.organization_code}）")]
    if revocation is not None:
        card.revoked = _revoked_rows(revocation)
        card.replaced_by = revocation.replaced_by
    return card


def _data_url(picture: bytes | None) -> str | None:
    """A stored photo (JPEG or PNG, as issuing accepts them) inline in the page."""
    if not picture:
        return None
    kind = "image/png" if picture.startswith(b"\x89PNG") else "image/jpeg"
    return f"data:{kind};base64,{base64.b64encode(picture).decode()}"


def _revoked_rows(revocation: Revocation) -> list[tuple[str, str]]:
    if revocation.revoked_at is None:
        return []
    reason = revocation.reason_zh if language() == "zh" else revocation.reason_en
    return [("revoked_on", _when(revocation.revoked_at)), ("revocation_reason", reason)]
