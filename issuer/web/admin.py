"""The authority administrator's pages of the console: organizations (registered through a
form, their scope edited as rows picked from the occupation catalogue, their certificates'
appearance chosen with a sample to look at first, suspended, resumed or cancelled), API keys
(created with a one-time display, listed, revoked) and console accounts (created, listed,
disabled, enabled, given a new password), statistics and the audit trail. Each change asks
for a confirmation where it cannot be undone, and calls the same service as the command
line and the API."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

import issuer.web.pages as pages
from issuer.core.clock import CST, china_date
from issuer.core.display import date_zh, level_en, level_zh
from issuer.core.errors import IssuerError
from issuer.core.numbering import ORG_KINDS
from issuer.render import layout_names, load_layout
from issuer.service.appearance import IMAGES, MAX_ASSET_BYTES, appearance_problems
from issuer.service.registry import ScopeItem
from issuer.service.wiring import UseCases
from issuer.store.records import OrganizationRecord
from issuer.web.errors import error_page
from issuer.web.i18n import TEXT, language, t
from issuer.web.orgforms import (
    MATCHES,
    REGISTRATION_FIELDS,
    ScopeForm,
    chosen_images,
    occupation_json,
    registration,
    registration_field,
    row_views,
    rows_in_force,
    scope_form,
)
from issuer.web.security import signed_in
from issuer.web.text import refuse_unstorable_text

bp = Blueprint("console_admin", __name__, url_prefix="/console")
bp.register_error_handler(HTTPException, error_page)
bp.before_request(refuse_unstorable_text)

MAX_APPEARANCE_UPLOAD = 16 * 1024 * 1024
"""The appearance form: three images of up to ``MAX_ASSET_BYTES`` each, and as many chosen
for a preview carried back in base64 (other requests are limited to 1 MiB). Larger is a 413."""

ROLES = ("org_issuer", "auditor", "authority_admin")
ACCOUNT_ROLES = ("org_issuer", "authority_admin")


# --- organizations --------------------------------------------------------------------------


@bp.get("/organizations")
@signed_in
def organizations() -> ResponseReturnValue:
    pages.admin_only()
    return render_template("web/console/organizations.html", orgs=pages.app().registry.list(pages.principal()))


def _beijing_time(text: str) -> datetime | None:
    """A ``datetime-local`` field read as Beijing time (blank: None); ``ValueError`` when it
    is not a time."""
    return datetime.fromisoformat(text).replace(tzinfo=CST) if text else None


def _organization(app: UseCases, code: str) -> OrganizationRecord:
    try:
        return app.registry.read(pages.principal(), code)
    except IssuerError:
        abort(404)


@bp.get("/organizations/<string:code>")
@signed_in
def organization(code: str) -> ResponseReturnValue:
    pages.admin_only()
    app = pages.app()
    org = _organization(app, code)
    scope = [
        {
            "occupation": f"{app.ctx.catalogue.occupation(s.occupation).name}（{s.occupation}）",
            "levels": "、".join(level_label(lv) for lv in sorted(s.levels, reverse=True)),
            "work_types": "、".join(s.work_types) or "—",
            "until": date_zh(s.valid_until) if s.valid_until else "—",
        }
        for s in org.scope
    ]
    history = [(pages.when(c.since), t(c.status), c.note) for c in sorted(org.status_history, key=lambda c: c.since)]
    images = [(what, getattr(org, f"has_{what}")) for what in IMAGES]
    keys = [
        {
            "kid": k.kid,
            "status": k.status,
            "created": pages.when(k.created_at),
            "ended": pages.when(k.compromised_at or k.retired_at) if (k.compromised_at or k.retired_at) else "—",
        }
        for k in sorted(org.keys, key=lambda k: k.created_at, reverse=True)
    ]
    return render_template(
        "web/console/organization.html",
        keys=keys,
        org=org,
        kind=pages.words(*ORG_KINDS[org.code[0]]) if org.code[:1] in ORG_KINDS else "",
        scope=scope,
        history=history,
        next_statuses=NEXT_STATUSES.get(org.status, ()),
        layout=layout_words(org.layout),
        images=images,
    )


@bp.get("/occupations")
@signed_in
def occupation_search() -> ResponseReturnValue:
    """The occupations of the catalogue a scope may name whose code begins with ``q``, or
    whose name contains it (at most ``MATCHES``; ``more`` says whether others match), with
    their levels and the 工种 the catalogue lists: for the scope editor's search box."""
    pages.admin_only()
    query = request.args.get("q", "")[:40]
    found = pages.app().ctx.catalogue.search(query, limit=MATCHES + 1)
    return jsonify(query=query, occupations=[occupation_json(o) for o in found[:MATCHES]], more=len(found) > MATCHES)


def _scope_editor(app: UseCases, scope: ScopeForm, problems: dict[int, str]) -> dict[str, Any]:
    """What ``_scope_rows.html`` shows: the search box and its matches, the rows."""
    return {
        "rows": row_views(app.ctx.catalogue, scope.rows, problems, pages.words),
        "query": scope.query,
        "matches": [(o.code, o.name) for o in scope.matches],
        "scope_problem": scope.problem,
    }


def _row_problems(app: UseCases, items: list[ScopeItem]) -> dict[int, str]:
    return {index: pages.message(exc) for index, exc in app.registry.scope_problems(items).items()}


@bp.route("/organizations/new", methods=["GET", "POST"])
@signed_in
def organization_register() -> ResponseReturnValue:
    """Register (备案) an organization: its code in parts, name, registration period and
    scope. Registering certifies its first signing key and publishes a new trust list."""
    pages.admin_only()
    app = pages.app()
    fields = {k: request.form.get(k, "").strip()[:200] for k in REGISTRATION_FIELDS}
    if request.method == "GET":
        fields["registered_from"] = china_date(app.ctx.clock()).isoformat()
    scope = scope_form(app.ctx.catalogue, request.form, pages.words)
    problems: dict[str, str] = {}
    rows: dict[int, str] = {}
    general = None
    if scope.saving:
        items = [row.item() for row in scope.rows]
        reg, problems = registration(fields, items, app.ctx.catalogue, pages.words)
        rows = _row_problems(app, items)
        if not items:
            problems["scope"] = pages.words("请查找职业并添加到备案范围", "find occupations and add them to the scope")
        if reg is not None and not problems and not rows:
            try:
                org = app.registry.register(pages.principal(), reg)
            except IssuerError as exc:
                where = registration_field(exc)
                if where is None:
                    general = pages.message(exc)
                else:
                    problems[where] = pages.message(exc)
            else:
                flash(t("org_registered").format(name=org.name, code=org.code))
                return redirect(url_for("console_admin.organization", code=org.code))
    page = render_template(
        "web/console/organization_new.html",
        fields=fields,
        kinds=[(kind, pages.words(*words)) for kind, words in ORG_KINDS.items()],
        provinces=sorted(app.ctx.catalogue.provinces.values(), key=lambda p: p.code),
        problems=problems,
        general=general,
        **_scope_editor(app, scope, rows),
    )
    return page, 422 if problems or rows or general else 200


@bp.route("/organizations/<string:code>/scope", methods=["GET", "POST"])
@signed_in
def organization_scope(code: str) -> ResponseReturnValue:
    """Edit the scope: the entries in force as rows, others added from the catalogue's
    search. Saving replaces the scope from the time given (blank: now); entries taken out
    end then, so certificates issued under them keep verifying."""
    pages.admin_only()
    app = pages.app()
    org = _organization(app, code)
    if request.method == "GET":
        scope = ScopeForm(rows_in_force(app.ctx.catalogue, org))
    else:
        scope = scope_form(app.ctx.catalogue, request.form, pages.words)
    when = request.form.get("effective", "").strip()[:16]
    rows: dict[int, str] = {}
    problems: dict[str, str] = {}
    general = None
    if scope.saving:
        items = [row.item() for row in scope.rows]
        rows = _row_problems(app, items)
        effective = None
        try:
            effective = _beijing_time(when)
        except ValueError:
            problems["effective"] = t("status_bad_time")
        if not rows and not problems:
            try:
                app.registry.set_scope(pages.principal(), org.code, items, effective=effective)
            except IssuerError as exc:
                general = pages.message(exc)
            else:
                flash(t("saved"))
                return redirect(url_for("console_admin.organization", code=org.code))
    page = render_template(
        "web/console/organization_scope.html",
        org=org,
        effective=when,
        problems=problems,
        general=general,
        **_scope_editor(app, scope, rows),
    )
    return page, 422 if problems or rows or general else 200


@bp.route("/organizations/<string:code>/appearance", methods=["GET", "POST"])
@signed_in
def organization_appearance(code: str) -> ResponseReturnValue:
    """Choose the layout and the background, logo and seal its certificates print with:
    预览 draws a sample certificate with the choice (nothing stored; the images chosen are
    carried in the page for saving), 保存 stores it. Each image is checked (PNG or JPEG
    that decodes, at most 2 MB and 5000 pixels a side) and its problem shown beside it."""
    pages.admin_only()
    app = pages.app()
    org = _organization(app, code)
    stored = app.registry.appearance(pages.principal(), org.code)
    layout = request.form.get("layout", org.layout)[:40]
    problems: dict[str, str] = {}
    carried: dict[str, str] = {}
    general = preview = None
    if request.method == "POST":
        chosen, carried = chosen_images(request.form, request.files, stored)
        problems = {field: pages.message(exc) for field, exc in appearance_problems(layout, chosen).items()}
        if not problems:
            try:
                if request.form.get("action") == "save":
                    app.registry.set_appearance(pages.principal(), org.code, layout=layout, assets=chosen)
                    flash(t("appearance_saved"))
                    return redirect(url_for("console_admin.organization", code=org.code))
                sample = app.registry.preview_appearance(pages.principal(), org.code, layout=layout, assets=chosen)
                preview = base64.b64encode(sample).decode()
            except IssuerError as exc:
                general = pages.message(exc)
        carried = {what: data for what, data in carried.items() if what not in problems}
    page = render_template(
        "web/console/organization_appearance.html",
        org=org,
        layout=layout,
        layouts=[(name, layout_words(name)) for name in layout_names()],
        images=[
            (what, getattr(stored, what) is not None, what in carried, bool(request.form.get(f"remove_{what}")))
            for what in IMAGES
        ],
        carried=carried,
        problems=problems,
        general=general,
        preview=preview,
        most_kb=MAX_ASSET_BYTES // 1024,
    )
    return page, 422 if problems or general else 200, {"Cache-Control": "no-store"}


def layout_words(name: str) -> str:
    """A layout's name for people: its words in ``TEXT`` (``layout_portrait``), else its
    file name and whether it is bilingual."""
    if f"layout_{name}" in TEXT:
        return t(f"layout_{name}")
    try:
        english = load_layout(name).english
    except IssuerError:
        return name
    return f"{name}（{pages.words('中英文', 'Chinese and English')}）" if english else name


@bp.post("/organizations/<string:code>/status")
@signed_in
def organization_status(code: str) -> ResponseReturnValue:
    """Suspend, resume or cancel a registration with a reason and the Beijing time it takes
    effect (blank: now): a confirmation page says what changes for verifiers, then it is done."""
    pages.admin_only()
    app = pages.app()
    wanted = request.form.get("status", "")
    note = request.form.get("note", "").strip()[:200]
    when = request.form.get("since", "").strip()[:16]
    back = url_for("console_admin.organization", code=code)
    if wanted not in ("active", "suspended", "cancelled") or not note:
        flash(t("status_needs_reason"), "warning")
        return redirect(back)
    try:
        since = _beijing_time(when)
    except ValueError:
        flash(t("status_bad_time"), "warning")
        return redirect(back)
    org = _organization(app, code)
    if request.form.get("confirm") != "1":
        return render_template(
            "web/console/confirm.html",
            title=t("status_change"),
            warning=t(f"status_effect_{wanted}"),
            rows=[
                ("organization", f"{org.name}（{org.code}）"),
                ("org_status", f"{t(org.status)} → {t(wanted)}"),
                ("status_since", pages.when(since) if since else t("status_now")),
                ("reason", note),
            ],
            action=url_for("console_admin.organization_status", code=org.code),
            back=url_for("console_admin.organization", code=org.code),
            button=t("status_confirm_button"),
            fields={"status": wanted, "note": note, "since": when},
        )
    try:
        app.registry.change_status(pages.principal(), code, wanted, since=since, note=note)
    except IssuerError as exc:
        flash(pages.message(exc), "warning")
    else:
        flash(t("status_changed").format(status=t(wanted)), "warning")
    return redirect(back)


@bp.post("/organizations/<string:code>/keys")
@signed_in
def organization_keys(code: str) -> ResponseReturnValue:
    """Rotate the organization's signing key, or revoke one as compromised from a Beijing time
    (blank: now), after a confirmation that says what verifiers then decide."""
    pages.admin_only()
    app = pages.app()
    action = request.form.get("action", "")
    kid = request.form.get("kid", "").strip()[:32]
    when = request.form.get("since", "").strip()[:16]
    back = url_for("console_admin.organization", code=code)
    if action not in ("rotate", "compromise") or (action == "compromise" and not kid):
        abort(400)
    try:
        since = _beijing_time(when)
    except ValueError:
        flash(t("status_bad_time"), "warning")
        return redirect(back)
    org = _organization(app, code)
    if request.form.get("confirm") != "1":
        rows = [("organization", f"{org.name}（{org.code}）")]
        if action == "compromise":
            rows += [("key_id", kid), ("key_compromised_at", pages.when(since) if since else t("status_now"))]
        return render_template(
            "web/console/confirm.html",
            title=t(f"key_{action}"),
            warning=t(f"key_{action}_effect"),
            rows=rows,
            action=url_for("console_admin.organization_keys", code=org.code),
            back=back,
            button=t(f"key_{action}_button"),
            fields={"action": action, "kid": kid, "since": when},
        )
    try:
        if action == "rotate":
            key = app.registry.rotate_key(pages.principal(), code)
        else:
            key = app.registry.compromise_key(pages.principal(), code, kid, compromised_at=since)
    except IssuerError as exc:
        flash(pages.message(exc), "warning")
    else:
        flash(t(f"key_{action}_done").format(kid=key.kid), "warning")
    return redirect(back)


NEXT_STATUSES: dict[str, tuple[str, ...]] = {"active": ("suspended", "cancelled"), "suspended": ("active", "cancelled")}
"""The changes an organization's status allows (a cancelled registration changes no more)."""


# --- API keys -------------------------------------------------------------------------------


@bp.route("/api-keys", methods=["GET", "POST"])
@signed_in
def api_keys() -> ResponseReturnValue:
    """Every API key (never a secret); a new one is shown once, on the page that creates it
    (not kept in the session cookie, not cached)."""
    pages.admin_only()
    app = pages.app()
    created, problem, status = None, None, 200
    form = {k: request.form.get(k, "").strip()[:200] for k in ("role", "name", "organization")}
    if request.method == "POST":
        try:
            created = app.api_keys.create(
                pages.principal(),
                role=form["role"],
                name=form["name"],
                organization=form["organization"] or None,
            )
        except IssuerError as exc:
            problem, status = pages.message(exc), 422
    keys = sorted(app.api_keys.list(pages.principal()), key=lambda k: (k.revoked_at is not None, k.created_at))
    page = render_template(
        "web/console/api_keys.html",
        keys=keys,
        created=created,
        problem=problem,
        form=form,
        roles=ROLES,
        orgs=app.registry.list(pages.principal()),
        local=pages.when,
    )
    return page, status, {"Cache-Control": "no-store"}


@bp.post("/api-keys/<string:key_id>/revoke")
@signed_in
def api_key_revoke(key_id: str) -> ResponseReturnValue:
    pages.admin_only()
    app = pages.app()
    if request.form.get("confirm") != "1":
        found = next((k for k in app.api_keys.list(pages.principal()) if k.id == key_id), None)
        if found is None:
            abort(404)
        return render_template(
            "web/console/confirm.html",
            title=t("apikey_revoke"),
            warning=t("apikey_revoke_warning"),
            rows=[("apikey_id", found.id), ("apikey_name", found.name), ("role", found.role)],
            action=url_for("console_admin.api_key_revoke", key_id=key_id),
            back=url_for("console_admin.api_keys"),
            button=t("apikey_revoke"),
            fields={},
        )
    try:
        app.api_keys.revoke(pages.principal(), key_id)
    except IssuerError as exc:
        flash(pages.message(exc), "warning")
    else:
        flash(t("apikey_revoked").format(id=key_id), "warning")
    return redirect(url_for("console_admin.api_keys"))


# --- console accounts -----------------------------------------------------------------------


@bp.route("/accounts", methods=["GET", "POST"])
@signed_in
def accounts() -> ResponseReturnValue:
    pages.admin_only()
    app = pages.app()
    problem, status = None, 200
    form = {k: request.form.get(k, "").strip()[:64] for k in ("username", "display_name", "role", "organization")}
    if request.method == "POST":
        try:
            app.accounts.create(
                pages.principal(),
                username=form["username"],
                display_name=form["display_name"],
                role=form["role"],
                password=request.form.get("password", ""),
                organization=form["organization"] or None,
            )
        except IssuerError as exc:
            problem, status = pages.message(exc), 422
        else:
            flash(t("account_created").format(username=form["username"]))
            return redirect(url_for("console_admin.accounts"))
    now = app.ctx.clock()
    listed = [(a, a.state(now)) for a in app.accounts.list(pages.principal())]
    page = render_template(
        "web/console/accounts.html",
        accounts=listed,
        problem=problem,
        form=form,
        roles=ACCOUNT_ROLES,
        orgs=app.registry.list(pages.principal()),
        local=pages.when,
    )
    return page, status


@bp.post("/accounts/<string:username>/<string:change>")
@signed_in
def account_change(username: str, change: str) -> ResponseReturnValue:
    """``disable`` (confirmed first: the person's sessions end at once), ``enable``, or
    ``reset`` (a new password the administrator types: deliberate already, and a password is
    never written back into a page)."""
    pages.admin_only()
    if change not in ("disable", "enable", "reset"):
        abort(404)
    app = pages.app()
    password = request.form.get("password", "")
    if change == "disable" and request.form.get("confirm") != "1":
        return render_template(
            "web/console/confirm.html",
            title=t(f"account_{change}"),
            warning=t(f"account_{change}_warning"),
            rows=[("username", username)],
            action=url_for("console_admin.account_change", username=username, change=change),
            back=url_for("console_admin.accounts"),
            button=t(f"account_{change}"),
            fields={},
        )
    try:
        if change == "disable":
            app.accounts.disable(pages.principal(), username)
        elif change == "enable":
            app.accounts.enable(pages.principal(), username)
        else:
            app.accounts.reset_password(pages.principal(), username, password)
    except IssuerError as exc:
        flash(pages.message(exc), "warning")
    else:
        flash(t(f"account_{change}_done").format(username=username), "warning" if change == "disable" else "message")
    return redirect(url_for("console_admin.accounts"))


# --- statistics and the audit trail ---------------------------------------------------------


@bp.get("/statistics")
@signed_in
def statistics() -> ResponseReturnValue:
    """Certificates issued and revoked per month (a bar chart), per organization and per
    occupation and level."""
    pages.admin_only()
    app = pages.app()
    found = app.certificates.breakdown(pages.principal())
    names = {o.code: o.name for o in app.registry.list(pages.principal())}
    top = max((issued for issued, _ in found.months.values()), default=0)
    months = [(month, issued, revoked, top) for month, (issued, revoked) in found.months.items()]
    occupations = [
        (app.ctx.catalogue.occupation(code).name, code, level_label(level), issued, revoked)
        for (code, level), (issued, revoked) in found.occupations.items()
    ]
    organizations = [
        (code, names.get(code, code), issued, revoked) for code, (issued, revoked) in found.organizations.items()
    ]
    return render_template(
        "web/console/statistics.html", months=months, occupations=occupations, organizations=organizations
    )


AUDIT_PAGE = 50


@bp.get("/audit")
@signed_in
def audit_trail() -> ResponseReturnValue:
    """The audit trail, oldest first, a page at a time, with the chain check's verdict."""
    pages.admin_only()
    after = max(0, request.args.get("after", 0, type=int) or 0)
    page = pages.app().audit.read(pages.principal(), after_id=after, limit=AUDIT_PAGE)
    return render_template(
        "web/console/audit.html",
        events=page.events,
        broken=page.broken,
        following=page.events[-1].id if len(page.events) == AUDIT_PAGE else None,
        local=pages.when,
    )


def level_label(level: int) -> str:
    return level_zh(level) if language() == "zh" else level_en(level)
