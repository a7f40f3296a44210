"""The organization console: per-person sign-in, issuing one certificate through a form
with its problems shown beside the fields, rosters uploaded and followed to their archive,
certificates listed, searched, opened, downloaded and revoked (the authority
administrator's pages are in ``admin``). Each page calls the same service functions as the
API, as the signed-in person (``AccountInfo.principal``)."""

from __future__ import annotations

import base64
import io
import re
import secrets
import zipfile
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

import issuer.web.pages as pages
from issuer.api.v1 import MAX_BATCH_UPLOAD, XLSX
from issuer.core import identity
from issuer.core.assessment import Placing
from issuer.core.clock import CST
from issuer.core.display import date_zh, level_en, level_zh
from issuer.core.errors import IssuerError
from issuer.service import roster
from issuer.service.batches import Upload, has_result
from issuer.service.certificates import MAX_PAGE, Search, assessment_of, document_number
from issuer.service.fields import field_of
from issuer.service.filenames import content_disposition
from issuer.service.form_checks import form_problems
from issuer.service.issuing import MAX_PHOTO_BYTES, IssueRequest
from issuer.service.principal import Role
from issuer.service.revoking import MAX_AT_ONCE, REVOCATION_REASONS, reason_words
from issuer.service.rework import PREVIEWS
from issuer.service.validations import TooManyValidations
from issuer.service.wiring import UseCases
from issuer.store.records import CertificateRecord
from issuer.web.errors import error_page
from issuer.web.i18n import language, t
from issuer.web.security import current_account, sign_in_session, signed_in
from issuer.web.text import refuse_unstorable_text

bp = Blueprint("console", __name__, url_prefix="/console")
bp.register_error_handler(HTTPException, error_page)
bp.before_request(refuse_unstorable_text)

MAX_UPLOAD = MAX_BATCH_UPLOAD
"""A roster with its photos, as through the API (other requests are limited to 1 MiB)."""

ISSUE_FIELDS = (
    "holder_name",
    "document_type",
    "document_number",
    "occupation",
    "work_type",
    "level",
    "method",
    "replaces",
)
SCORES = ("theory", "practical", "review", "performance", "process")
DATES = tuple(f"{key}_date" for key in SCORES)
COMPETITION = ("competition_tier", "competition_rank", "held_level", "competition_date")


# --- signing in -------------------------------------------------------------------------------


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    problem = None
    if request.method == "POST":
        try:
            account = pages.app().accounts.sign_in(request.form.get("username", ""), request.form.get("password", ""))
        except IssuerError as exc:
            problem = pages.message(exc)
        else:
            sign_in_session(account, pages.app().ctx.clock())
            target = request.args.get("next", "")
            if not target.startswith("/console/") or not target.isprintable() or "\\" in target:
                target = url_for("console.home")  # never off the console, nor a header break (a 500)
            return redirect(target)
    return render_template("web/console/sign_in.html", problem=problem), 200 if problem is None else 401


@bp.post("/sign-out")
@signed_in
def sign_out() -> ResponseReturnValue:
    account = current_account()
    assert account is not None
    pages.app().accounts.sign_out(account.id)
    session.clear()
    return redirect(url_for("console.sign_in"))


@bp.route("/password", methods=["GET", "POST"])
@signed_in
def password() -> ResponseReturnValue:
    """Change one's own password; every session ends, this one too."""
    problem = None
    if request.method == "POST":
        account = current_account()
        assert account is not None
        new = request.form.get("new_password", "")
        if new != request.form.get("repeat_password", ""):
            problem = pages.words("两次输入的新密码不一致", "the two new passwords differ")
        else:
            try:
                pages.app().accounts.change_password(account.id, request.form.get("current_password", ""), new)
            except IssuerError as exc:
                problem = pages.message(exc)
            else:
                session.clear()
                flash(t("password_changed"))
                return redirect(url_for("console.sign_in"))
    return render_template("web/console/password.html", problem=problem), 200 if problem is None else 422


@bp.get("/")
@signed_in
def home() -> ResponseReturnValue:
    if pages.principal().role is Role.AUTHORITY_ADMIN:
        return redirect(url_for("console_admin.organizations"))
    return redirect(url_for("console.certificates"))


# --- certificates ---------------------------------------------------------------------------


@bp.get("/certificates")
@signed_in
def certificates() -> ResponseReturnValue:
    """Find certificates: one box that takes a number prefix, part of a name, a whole
    document number or its last 1–4 characters; and filters by occupation, level, status,
    batch and issue dates. Pages both ways, with the count."""
    pages.issuer_only()
    app = pages.app()
    args = {k: request.args.get(k, "").strip()[:64] for k in FILTERS}
    page = min(max(1, request.args.get("page", 1, type=int) or 1), MAX_PAGE)  # past the end: an empty page
    query = Search(**_box(args["q"]), **_filters(args), page=page, per_page=PER_PAGE)
    try:
        found = app.certificates.search(pages.principal(), query)
    except IssuerError as exc:
        flash(pages.message(exc), "warning")
        found = app.certificates.search(pages.principal(), Search(page=1, per_page=PER_PAGE))
    rows = [
        {
            "number": r.number,
            "name": r.holder_name,
            "occupation": app.ctx.catalogue.occupation(r.occupation).name,
            "level": level_zh(r.level),
            "issue_date": date_zh(r.issue_date),
            "revoked": r.revoked_at is not None,
        }
        for r in found.items
    ]
    page_count = max(1, -(-found.total // found.per_page))
    kept = {k: v for k, v in args.items() if v}
    return render_template(
        "web/console/certificates.html",
        rows=rows,
        args=args,
        page=found,
        pages=page_count,
        previous=url_for("console.certificates", **kept, page=found.page - 1) if found.page > 1 else None,
        following=url_for("console.certificates", **kept, page=found.page + 1) if found.page < page_count else None,
        occupations=_scope_choices(app, current_only=False),
        batches=app.batches.recent(pages.principal(), limit=50),
        levels={lv: level_zh(lv) if language() == "zh" else level_en(lv) for lv in (5, 4, 3, 2, 1)},
        reasons=REVOCATION_REASONS,
        here=request.full_path.rstrip("?"),
        most=MAX_DOWNLOAD,
    )


FILTERS = ("q", "occupation", "level", "status", "batch", "issued_from", "issued_until")
PER_PAGE = 20
MAX_DOWNLOAD = 50
"""Certificates one ZIP download draws at most (a page or two of the list: about 5 s)."""


def _box(q: str) -> dict[str, str]:
    """What the one search box means: a number prefix (Y or S then digits), a document
    number whole (15 or more characters) or its tail (1–4 digits or X), else part of a name."""
    if not q:
        return {}
    if q[:1].upper() in ("Y", "S") and any(c.isdigit() for c in q):
        return {"number": q}
    compact = identity.normalize_document_number(q)
    if re.fullmatch(r"[0-9X]{1,4}|[0-9A-Z]{15,}", compact):
        return {"document_number": compact}
    return {"name": q}


def _filters(args: dict[str, str]) -> dict[str, Any]:
    """The filters the page was given; one that does not read is left out."""
    out: dict[str, Any] = {}
    if args["occupation"]:
        out["occupation"] = args["occupation"]
    if args["level"].isdigit():
        out["level"] = int(args["level"])
    if args["status"] in ("valid", "revoked"):
        out["revoked"] = args["status"] == "revoked"
    if re.fullmatch(r"[0-9a-f]{32}", args["batch"]):
        out["batch"] = args["batch"]
    for key in ("issued_from", "issued_until"):
        try:
            out[key] = date.fromisoformat(args[key]) if args[key] else None
        except ValueError:
            continue
    return out


@bp.post("/certificates/revoke")
@signed_in
def revoke_selected() -> ResponseReturnValue:
    """Revoke the certificates ticked in the list with one reason: first a page listing each
    (number and holder) to confirm, then all of them at once, or none."""
    pages.issuer_only()
    app = pages.app()
    numbers = list(dict.fromkeys(n.strip().upper() for n in request.form.getlist("number") if n.strip()))[:MAX_AT_ONCE]
    reason, note = request.form.get("reason", ""), request.form.get("note", "")[:1000]
    back = request.form.get("back", "")
    back = back if back.startswith("/console/certificates") and back.isprintable() else url_for("console.certificates")
    if not numbers:
        flash(t("choose_certificates"), "warning")
        return redirect(back)
    if reason not in REVOCATION_REASONS:
        flash(t("choose_reason"), "warning")
        return redirect(back)
    if request.form.get("confirm") != "1":
        try:
            records = [app.certificates.get(pages.principal(), n) for n in numbers]
        except IssuerError as exc:
            flash(pages.message(exc), "warning")
            return redirect(back)
        words = REVOCATION_REASONS[reason]
        return render_template(
            "web/console/revoke_many_confirm.html",
            records=records,
            reason=reason,
            reason_words=words[1] if language() == "zh" else words[0],
            note=note,
            back=back,
        )
    try:
        done = app.revoking.revoke_many(pages.principal(), numbers, reason=reason, note=note)
    except IssuerError as exc:
        flash(pages.message(exc), "warning")
    else:
        flash(t("revoked_many").format(count=len(done)), "warning")
    return redirect(back)


@bp.post("/certificates/download")
@signed_in
def download_selected() -> ResponseReturnValue:
    """The PNG and PDF of each ticked certificate (not revoked), in one ZIP named by date:
    ``png/<number>_<name>.png`` and ``pdf/<number>_<name>.pdf``."""
    pages.issuer_only()
    app = pages.app()
    numbers = list(dict.fromkeys(n.strip().upper() for n in request.form.getlist("number") if n.strip()))
    if not numbers or len(numbers) > MAX_DOWNLOAD:
        flash(t("choose_download").format(most=MAX_DOWNLOAD), "warning")
        return redirect(url_for("console.certificates"))
    out = io.BytesIO()
    skipped = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for number in numbers:
            for fmt in ("png", "pdf"):
                try:
                    rendered = app.images.render(pages.principal(), number, fmt=fmt, dpi=300)
                except IssuerError:
                    skipped.append(number)
                    break
                archive.writestr(f"{fmt}/{rendered.filename}", rendered.data)
        if skipped:
            archive.writestr("未包含.txt", "\r\n".join(["已撤销或无法打印，未包含：", *dict.fromkeys(skipped)]))
    out.seek(0)
    day = app.ctx.clock().astimezone(CST).date()
    return send_file(out, mimetype="application/zip", as_attachment=True, download_name=f"证书_{day:%Y%m%d}.zip")


@bp.get("/certificates/<string:number>")
@signed_in
def certificate(number: str) -> ResponseReturnValue:
    pages.issuer_only()
    app = pages.app()
    try:
        record = app.certificates.get(pages.principal(), number)
    except IssuerError:
        abort(404)
    details = [
        ("number", record.number),
        ("name", record.holder_name),
        ("document_number", document_number(app.ctx, record)),
        ("occupation", f"{app.ctx.catalogue.occupation(record.occupation).name}（{record.occupation}）"),
        ("work_type", record.work_type or "--"),
        ("level", level_zh(record.level)),
        ("issue_date", date_zh(record.issue_date)),
        *_assessment_details(app, record),
    ]
    revocation = []
    if record.revoked_at is not None:
        en, zh = reason_words(record.revocation_reason)
        revocation = [
            ("revoked_on", pages.when(record.revoked_at)),
            ("revocation_reason", zh if language() == "zh" else en),
            ("note", record.revocation_note or "—"),
            ("revoked_by", record.revoked_by or "—"),
        ]
    return render_template(
        "web/console/certificate.html",
        record=record,
        details=details,
        revocation=revocation,
        reasons=REVOCATION_REASONS,
    )


def _assessment_details(app: UseCases, record: CertificateRecord) -> list[tuple[str, str]]:
    """The method and each component's result with the date it was passed, as the page shows them."""
    method, results = assessment_of(app.ctx, record)
    zh = language() == "zh"
    names = {c.key: (c.name_zh if zh else c.name_en) for c in method.components}
    tiers = {t.key: (t.name_zh if zh else t.name_en) for t in method.tiers}
    lines = []
    for r in results:
        if r.placing is not None:
            held = r.placing.held_level
            what = f"{tiers.get(r.placing.tier, r.placing.tier)} " + pages.words(
                f"第{r.placing.rank}名" + (f"（原{level_zh(held)}）" if held else ""),
                f"rank {r.placing.rank}" + (f" (held level {held})" if held else ""),
            )
        else:
            what = f"{r.score.normalize():f}" if r.score is not None else ""
        day = date_zh(r.passed_on) if zh else r.passed_on.isoformat()
        lines.append(
            f"{names.get(r.component, r.component)} {what}（{day}通过）"
            if zh
            else f"{names.get(r.component, r.component)} {what} (passed {day})"
        )
    return [("method", method.name_zh if zh else method.name_en), ("results", pages.words("；", "; ").join(lines))]


@bp.get("/certificates/<string:number>/image.<string:fmt>")
@signed_in
def certificate_image(number: str, fmt: str) -> ResponseReturnValue:
    pages.issuer_only()
    try:
        rendered = pages.app().images.render(pages.principal(), number, fmt=fmt, dpi=300)
    except IssuerError as exc:
        abort(404 if exc.kind == "not_found" else 409 if exc.kind == "conflict" else 400)
    response = current_app.response_class(rendered.data, mimetype=rendered.mimetype)
    response.headers["Content-Disposition"] = content_disposition(
        "attachment", rendered.filename, f"{number.upper()}.{fmt}"
    )
    return response


@bp.post("/certificates/<string:number>/revoke")
@signed_in
def revoke(number: str) -> ResponseReturnValue:
    """Two steps: the form's answer is a page naming the certificate, its holder, the reason
    and the note, with a button that revokes (``confirm=1``); only that revokes. Revoking
    cannot be undone, so its outcome is a warning, not a success."""
    pages.issuer_only()
    app = pages.app()
    reason, note = request.form.get("reason", ""), request.form.get("note", "")[:1000]
    if reason not in REVOCATION_REASONS:
        flash(t("choose_reason"), "warning")
        return redirect(url_for("console.certificate", number=number))
    if request.form.get("confirm") != "1":
        try:
            record = app.certificates.get(pages.principal(), number)
        except IssuerError:
            abort(404)
        words = REVOCATION_REASONS[reason]
        return render_template(
            "web/console/confirm.html",
            title=t("revoke_confirm"),
            warning=t("revoke_warning"),
            rows=[
                ("number", record.number),
                ("name", record.holder_name),
                ("reason", words[1] if language() == "zh" else words[0]),
                ("note", note or "—"),
            ],
            action=url_for("console.revoke", number=record.number),
            back=url_for("console.certificate", number=record.number),
            button=t("revoke_confirm_button"),
            fields={"reason": reason, "note": note},
        )
    try:
        app.revoking.revoke(pages.principal(), number, reason=reason, note=note)
    except IssuerError as exc:
        flash(pages.message(exc), "warning")
    else:
        flash(t("revoked_done").format(number=number), "warning")
    return redirect(url_for("console.certificate", number=number))


# --- issuing one certificate ------------------------------------------------------------------


def _request_from(form: Any, photo: bytes | None) -> tuple[IssueRequest | None, dict[str, str]]:
    """The request, or the problems of fields that are not even well-formed."""
    problems: dict[str, str] = {}
    scores: dict[str, Decimal] = {}
    passed_on: dict[str, date] = {}
    for key in SCORES:
        text = form.get(key, "").strip()
        if text:
            try:
                scores[key] = Decimal(text)
            except InvalidOperation:
                problems[key] = pages.words("请填写数字", "a number")
        day = _date(form, f"{key}_date", problems)
        if day is not None:
            passed_on[key] = day
    try:
        level = int(form.get("level", ""))
    except ValueError:
        problems["level"] = pages.words("请选择等级", "choose a level")
        level = 0
    placing = None
    if form.get("competition_tier", "").strip():
        rank, held = form.get("competition_rank", "").strip(), form.get("held_level", "").strip()
        day = _date(form, "competition_date", problems)
        if not rank.isdigit() or (held and not held.isdigit()):
            problems["competition"] = pages.words("名次和等级请填写数字", "the rank and level are numbers")
        else:
            placing = Placing(form["competition_tier"].strip(), int(rank), int(held) if held else None, day)
    for key in ("holder_name", "document_number", "occupation"):
        if not form.get(key, "").strip():
            problems[key] = pages.words("必填", "required")
    if problems:
        return None, problems
    return (
        IssueRequest(
            holder_name=form["holder_name"].strip(),
            document_type=form.get("document_type", "1"),
            document_number=form["document_number"],
            occupation=form["occupation"].strip(),
            level=level,
            scores=scores,
            work_type=form.get("work_type", "").strip() or None,
            replaces=form.get("replaces", "").strip() or None,
            photo=photo,
            method=form.get("method", "").strip() or None,
            passed_on=passed_on,
            placing=placing,
        ),
        {},
    )


def _date(form: Any, key: str, problems: dict[str, str]) -> date | None:
    """A date field (``YYYY-MM-DD``, as a date input sends it), None when blank."""
    text = form.get(key, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems[key] = pages.words("请填写日期，如2026-05-20", "a date such as 2026-05-20")
        return None


def _photo(app: UseCases, replaces: str) -> bytes | None:
    """The uploaded photo; else the one previewed (carried in the form, as a browser does not
    keep a chosen file); when re-issuing without one, the replaced certificate's."""
    upload = request.files.get("photo")
    if upload is not None and upload.filename:
        return upload.read(MAX_PHOTO_BYTES + 1)  # one byte more: enough for the size check to refuse it
    kept = request.form.get("kept_photo", "")
    if kept:
        try:
            return base64.b64decode(kept[: 4 * (MAX_PHOTO_BYTES // 3 + 2)], validate=True)
        except ValueError:
            return None
    if replaces:
        try:
            return app.certificates.photo(pages.principal(), replaces)
        except IssuerError:
            return None
    return None


def _reissue_form(app: UseCases, number: str) -> dict[str, str]:
    """The form filled in from the certificate being re-issued (换发): the clerk corrects it."""
    try:
        old = app.certificates.get(pages.principal(), number)
    except IssuerError:
        abort(404)
    method, results = assessment_of(app.ctx, old)
    form = {key: "" for key in (*SCORES, *DATES, *COMPETITION)}
    for r in results:
        if r.placing is not None:
            form.update(
                competition_tier=r.placing.tier,
                competition_rank=str(r.placing.rank),
                held_level=str(r.placing.held_level or ""),
                competition_date=r.passed_on.isoformat(),
            )
        else:
            form.update({r.component: str(r.score), f"{r.component}_date": r.passed_on.isoformat()})
    return {
        "holder_name": old.holder_name,
        "document_type": str(old.document_type),
        "document_number": document_number(app.ctx, old),
        "occupation": old.occupation,
        "work_type": old.work_type or "",
        "level": str(old.level),
        "method": method.key,
        "replaces": old.number,
        **form,
    }


@bp.route("/issue", methods=["GET", "POST"])
@signed_in
def issue() -> ResponseReturnValue:
    pages.issuer_only()
    app = pages.app()
    form = {k: request.form.get(k, "")[:64] for k in (*ISSUE_FIELDS, *SCORES, *DATES, *COMPETITION)}
    if request.method == "GET" and request.args.get("replaces"):
        form = _reissue_form(app, request.args["replaces"][:40])
    problems: dict[str, str] = {}
    general = None
    existing = None
    preview = kept_photo = None
    if request.method == "POST":
        photo = _photo(app, form["replaces"].strip())
        built, problems = _request_from(form, photo)
        if built is not None and request.form.get("preview"):
            try:
                preview = base64.b64encode(app.issuing.preview(pages.principal(), built)).decode()
                kept_photo = base64.b64encode(photo).decode() if photo else None
            except IssuerError as exc:
                general = _place(exc, problems)
        elif built is not None:
            try:
                record, _ = app.issuing.issue(
                    pages.principal(), built, idempotency_key=request.form.get("once") or None
                )
            except IssuerError as exc:
                general = _place(exc, problems)
                if exc.code in ("already_certified", "already_reissued"):
                    existing = exc.errors.get("number")
            else:
                flash(t("reissued_ok") if built.replaces else t("issued_ok"))
                return redirect(url_for("console.certificate", number=record.number))
        if problems:
            general = _every_problem(app, form, photo, problems) or general
    status = 200 if request.method == "GET" or (preview and not problems and not general) else 422
    return render_template(
        "web/console/issue.html",
        preview=preview,
        kept_photo=kept_photo,
        form=form,
        problems=problems,
        general=general,
        existing=existing,
        document_types=list(app.ctx.document_types),
        scope=_scope_choices(app),
        methods=list(app.ctx.methods),
        tiers=[t for m in app.ctx.methods for t in m.tiers],
        scores=SCORES,
        once=_once(),
    ), status


def _every_problem(app: UseCases, form: dict[str, str], photo: bytes | None, problems: dict[str, str]) -> str | None:
    """Add to ``problems`` those of the fields not in it yet (issuing stopped at the first);
    return a problem of the form as a whole, if one was found."""
    found, general = form_problems(app.issuing, pages.principal(), form, photo)
    for key, (en, zh) in found.items():
        problems.setdefault(key, pages.words(zh, en))
    return pages.words(general[1], general[0]) if general and not found else None


def _place(error: IssuerError, problems: dict[str, str]) -> str | None:
    """Put ``error`` beside its field in ``problems``; return it when it belongs to no field."""
    field = field_of(error)
    if field:
        problems[field] = pages.message(error)
        return None
    return pages.message(error)


def _once() -> str:
    """An idempotency key per form shown: a double-clicked submit issues once."""
    return secrets.token_urlsafe(16)


def _scope_choices(app: UseCases, *, current_only: bool = True) -> list[tuple[str, str]]:
    """The occupations the organization may evaluate today (or ever could: ``current_only``
    false, for finding certificates), for a form's list."""
    principal = pages.principal()
    org = app.registry.read(principal, principal.organization_code or "")
    codes = sorted({s.occupation for s in org.scope if s.valid_until is None or not current_only})
    return [(code, app.ctx.catalogue.occupation(code).name) for code in codes]


# --- batches ---------------------------------------------------------------------------------


@bp.route("/batches", methods=["GET", "POST"])
@signed_in
def batch_list() -> ResponseReturnValue:
    """Upload a roster (answered at once: the batch's page follows its validation) and
    the organization's latest batches."""
    pages.issuer_only()
    app = pages.app()
    general, status = None, 200
    headers: dict[str, str] = {}
    if request.method == "POST":
        sheet = request.files.get("roster")
        photos = request.files.get("photos")
        if sheet is None or not sheet.filename:
            general, status = t("roster"), 422
        else:
            upload = Upload(
                roster=sheet.read(),
                filename=sheet.filename,
                photos=photos.stream if photos is not None and photos.filename else None,
                valid_rows_only=bool(request.form.get("valid_rows_only")),
                dry_run=bool(request.form.get("dry_run")),
            )
            try:
                batch, _ = app.batches.submit(pages.principal(), upload, idempotency_key=request.form.get("once"))
                return redirect(url_for("console.batch", batch_id=batch.id))
            except TooManyValidations as exc:
                general, status = pages.message(exc), 429
                headers["Retry-After"] = str(exc.errors["retry_after"])
            except IssuerError as exc:
                general, status = pages.message(exc), 422
    recent = app.batches.recent(pages.principal(), limit=20)
    page = render_template(
        "web/console/batches.html",
        recent=recent,
        general=general,
        once=_once(),
        guide=roster.column_guide(),
        photo_rule=roster.photo_rule(),
        when=pages.when,
    )
    return (
        page,
        status,
        headers,
    )


@bp.get("/batches/template.xlsx")
@signed_in
def batch_template() -> ResponseReturnValue:
    """The roster template (the API's ``/api/v1/batches/template``), for the clerk at the page."""
    pages.issuer_only()
    return send_file(
        io.BytesIO(roster.roster_template_xlsx()),
        mimetype=XLSX,
        as_attachment=True,
        download_name="职业技能等级认定名单模板.xlsx",
    )


@bp.get("/batches/<string:batch_id>")
@signed_in
def batch(batch_id: str) -> ResponseReturnValue:
    """A batch's progress, refreshed every 3 seconds until it ends: rows checked, then
    certificates drawn; a rejected roster's problems; the result and the archive. A roster
    sent back or only checked can be sent again from here, fixed, and a checked one issued
    after its first certificates are previewed."""
    pages.issuer_only()
    return _batch_page(pages.app(), batch_id)


def _batch_page(app: UseCases, batch_id: str, problem: str | None = None, status: int = 200) -> ResponseReturnValue:
    try:
        current = app.batches.status(pages.principal(), batch_id)
    except IssuerError:
        abort(404)
    issued = app.certificates.search(pages.principal(), Search(batch=current.id, page=1, per_page=PER_PAGE))
    rows = [
        {
            "number": r.number,
            "name": r.holder_name,
            "level": level_zh(r.level) if language() == "zh" else level_en(r.level),
            "revoked": r.revoked_at is not None,
        }
        for r in issued.items
    ]
    kept = app.rework.kept(current)
    valid = int(current.report.get("valid_rows") or 0) if kept else 0
    return render_template(
        "web/console/batch.html",
        batch=current,
        result=has_result(current),
        created=pages.when(current.created_at),
        certificates=rows,
        certificates_total=issued.total,
        kept=kept,
        previews=range(min(PREVIEWS, valid)) if current.status == "checked" else range(0),
        problem=problem,
        once=_once(),
    ), status


@bp.post("/batches/<string:batch_id>/again")
@signed_in
def batch_again(batch_id: str) -> ResponseReturnValue:
    """Send a kept roster again: fixed (a new roster file, the photos taken over), or as it
    was, to be issued after a dry run."""
    pages.issuer_only()
    app = pages.app()
    sheet = request.files.get("roster")
    chosen = sheet is not None and bool(sheet.filename)
    try:
        batch = app.rework.resubmit(
            pages.principal(),
            batch_id,
            roster=sheet.read() if chosen and sheet is not None else None,
            filename=sheet.filename if chosen and sheet is not None else None,
            dry_run=bool(request.form.get("dry_run")),
            valid_rows_only=bool(request.form.get("valid_rows_only")),
            idempotency_key=request.form.get("once"),
        )
    except IssuerError as exc:
        if exc.kind == "not_found":
            abort(404)
        return _batch_page(app, batch_id, pages.message(exc), 429 if isinstance(exc, TooManyValidations) else 422)
    return redirect(url_for("console.batch", batch_id=batch.id))


@bp.get("/batches/<string:batch_id>/preview/<int:index>.png")
@signed_in
def batch_preview(batch_id: str, index: int) -> ResponseReturnValue:
    """One of a checked roster's first certificates as it would print, marked as a sample."""
    pages.issuer_only()
    try:
        image = pages.app().rework.preview(pages.principal(), batch_id, index)
    except IssuerError as exc:
        abort(404 if exc.kind in ("not_found", "conflict") else 422)
    return send_file(io.BytesIO(image), mimetype="image/png", max_age=0)


@bp.get("/batches/<string:batch_id>/result")
@signed_in
def batch_result(batch_id: str) -> ResponseReturnValue:
    pages.issuer_only()
    out = io.BytesIO()
    try:
        current = pages.app().batches.result(pages.principal(), batch_id, out)
    except IssuerError:
        abort(404)
    out.seek(0)
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=f"result-{current.id}.xlsx")


@bp.get("/batches/<string:batch_id>/archive")
@signed_in
def batch_archive(batch_id: str) -> ResponseReturnValue:
    pages.issuer_only()
    try:
        path, current = pages.app().batches.archive(pages.principal(), batch_id)
    except IssuerError:
        abort(404)
    return send_file(path, mimetype="application/zip", as_attachment=True, download_name=f"batch-{current.id}.zip")


@bp.get("/batches/<string:batch_id>/certificates.pdf")
@signed_in
def batch_pdf(batch_id: str) -> ResponseReturnValue:
    """The batch's certificates as one PDF to print (revoked ones left out), drawn now. Why
    there is none (not issued yet, every certificate revoked) is said on the batch's page."""
    pages.issuer_only()
    try:
        printed = pages.app().batches.print_pdf(pages.principal(), batch_id)
    except IssuerError as exc:
        if exc.kind == "not_found":
            abort(404)
        flash(pages.message(exc), "warning")
        return redirect(url_for("console.batch", batch_id=batch_id))
    response = send_file(printed.file, mimetype="application/pdf", max_age=0)
    response.content_length = printed.size
    response.headers["Content-Disposition"] = content_disposition(
        "attachment", printed.filename, f"{printed.batch.id}.pdf"
    )
    return response
