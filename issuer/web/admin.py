"""The authority administrator's pages of the console beside the organizations: API keys
(created with a one-time display, listed, revoked) and console accounts (created, listed,
disabled, enabled, given a new password). Each change asks for a confirmation where it
cannot be undone, and calls the same service as the command line and the API."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from issuer.core.display import level_en, level_zh
from issuer.core.errors import IssuerError
from issuer.web.console import _admin_only, _app, _message, _principal, _when
from issuer.web.errors import error_page
from issuer.web.i18n import language, t
from issuer.web.security import signed_in

bp = Blueprint("console_admin", __name__, url_prefix="/console")
bp.register_error_handler(HTTPException, error_page)

ROLES = ("org_issuer", "auditor", "authority_admin")
ACCOUNT_ROLES = ("org_issuer", "authority_admin")


# --- API keys -------------------------------------------------------------------------------


@bp.route("/api-keys", methods=["GET", "POST"])
@signed_in
def api_keys() -> ResponseReturnValue:
    """Every API key (never a secret); a new one is shown once, on the page that creates it
    (not kept in the session cookie, not cached)."""
    _admin_only()
    app = _app()
    created, problem, status = None, None, 200
    form = {k: request.form.get(k, "").strip()[:200] for k in ("role", "name", "organization")}
    if request.method == "POST":
        try:
            created = app.api_keys.create(
                _principal(),
                role=form["role"],
                name=form["name"],
                organization=form["organization"] or None,
            )
        except IssuerError as exc:
            problem, status = _message(exc), 422
    keys = sorted(app.api_keys.list(_principal()), key=lambda k: (k.revoked_at is not None, k.created_at))
    page = render_template(
        "web/console/api_keys.html",
        keys=keys,
        created=created,
        problem=problem,
        form=form,
        roles=ROLES,
        orgs=app.registry.list(_principal()),
        local=_when,
    )
    return page, status, {"Cache-Control": "no-store"}


@bp.post("/api-keys/<string:key_id>/revoke")
@signed_in
def api_key_revoke(key_id: str) -> ResponseReturnValue:
    _admin_only()
    app = _app()
    if request.form.get("confirm") != "1":
        found = next((k for k in app.api_keys.list(_principal()) if k.id == key_id), None)
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
        app.api_keys.revoke(_principal(), key_id)
    except IssuerError as exc:
        flash(_message(exc), "warning")
    else:
        flash(t("apikey_revoked").format(id=key_id), "warning")
    return redirect(url_for("console_admin.api_keys"))


# --- console accounts -----------------------------------------------------------------------


@bp.route("/accounts", methods=["GET", "POST"])
@signed_in
def accounts() -> ResponseReturnValue:
    _admin_only()
    app = _app()
    problem, status = None, 200
    form = {k: request.form.get(k, "").strip()[:64] for k in ("username", "display_name", "role", "organization")}
    if request.method == "POST":
        try:
            app.accounts.create(
                _principal(),
                username=form["username"],
                display_name=form["display_name"],
                role=form["role"],
                password=request.form.get("password", ""),
                organization=form["organization"] or None,
            )
        except IssuerError as exc:
            problem, status = _message(exc), 422
        else:
            flash(t("account_created").format(username=form["username"]))
            return redirect(url_for("console_admin.accounts"))
    now = app.ctx.clock()
    listed = [(a, a.state(now)) for a in app.accounts.list(_principal())]
    page = render_template(
        "web/console/accounts.html",
        accounts=listed,
        problem=problem,
        form=form,
        roles=ACCOUNT_ROLES,
        orgs=app.registry.list(_principal()),
        local=_when,
    )
    return page, status


@bp.post("/accounts/<string:username>/<string:change>")
@signed_in
def account_change(username: str, change: str) -> ResponseReturnValue:
    """``disable`` (confirmed first: the person's sessions end at once), ``enable``, or
    ``reset`` (a new password the administrator types: deliberate already, and a password is
    never written back into a page)."""
    _admin_only()
    if change not in ("disable", "enable", "reset"):
        abort(404)
    app = _app()
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
            app.accounts.disable(_principal(), username)
        elif change == "enable":
            app.accounts.enable(_principal(), username)
        else:
            app.accounts.reset_password(_principal(), username, password)
    except IssuerError as exc:
        flash(_message(exc), "warning")
    else:
        flash(t(f"account_{change}_done").format(username=username), "warning" if change == "disable" else "message")
    return redirect(url_for("console_admin.accounts"))


# --- statistics and the audit trail ---------------------------------------------------------


@bp.get("/statistics")
@signed_in
def statistics() -> ResponseReturnValue:
    """Certificates issued and revoked per month (a bar chart), per organization and per
    occupation and level."""
    _admin_only()
    app = _app()
    found = app.certificates.breakdown(_principal())
    names = {o.code: o.name for o in app.registry.list(_principal())}
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
    _admin_only()
    after = max(0, request.args.get("after", 0, type=int) or 0)
    page = _app().audit.read(_principal(), after_id=after, limit=AUDIT_PAGE)
    return render_template(
        "web/console/audit.html",
        events=page.events,
        broken=page.broken,
        following=page.events[-1].id if len(page.events) == AUDIT_PAGE else None,
        local=_when,
    )


def level_label(level: int) -> str:
    return level_zh(level) if language() == "zh" else level_en(level)
