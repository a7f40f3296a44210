"""REST API ``/api/v1``: parse with marshmallow, call a service, serialize. No SQL,
signing or numbering here."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
from dataclasses import asdict
from typing import Any, ClassVar

from flask import Response, current_app, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, abort, is_json_request
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import NotFound as HTTPNotFound
from werkzeug.exceptions import UnsupportedMediaType

from issuer.api import jsonbody, present
from issuer.api import schemas as s
from issuer.api.auth import current_principal, use_cases
from issuer.api.errors import ErrorSchema
from issuer.api.openapi import TEXT_PATTERN
from issuer.core.assessment import Placing
from issuer.core.catalogue import EDITION_2022
from issuer.core.errors import InvalidInput, NotFound
from issuer.core.transparency import TreeHead
from issuer.core.unicode import UNSTORABLE, has_unstorable_text
from issuer.render import Assets
from issuer.service import roster
from issuer.service.apikeys import KeyInfo
from issuer.service.batches import DEFAULT_FORMATS, Upload
from issuer.service.certificates import Search
from issuer.service.filenames import content_disposition
from issuer.service.issuing import IssueRequest
from issuer.service.principal import Principal, Role, Unauthenticated, require_role
from issuer.service.registry import Registration, ScopeItem


class _JsonBodyParser(FlaskParser):  # type: ignore[misc]
    """webargs, stricter about bodies. A body that is not JSON is a 415 (webargs would read
    it as no body and report every field missing); JSON nested too deeply for the decoder
    or with numbers the service cannot hold is malformed JSON (400, where each was a 500);
    text with NUL or a lone surrogate is refused (``jsonbody``)."""

    # Query strings follow the schema's own rule (RAISE) instead of webargs' EXCLUDE, so a
    # misspelt filter (?levle=3) is an error rather than silently returning everything.
    DEFAULT_UNKNOWN_BY_LOCATION: ClassVar[dict[str, str | None]] = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,
        "querystring": None,
    }

    __location_map__: ClassVar[dict[str, Any]] = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req: Any, schema: Any) -> Any:
        """A multipart form's fields and files together, as one body (``multipart/form-data``)."""
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            if req.get_data(cache=True):
                raise UnsupportedMediaType("the request body must be JSON (Content-Type: application/json)")
            return webargs_core.missing
        try:
            data = jsonbody.loads(req.get_data(cache=True).decode("utf-8"))
        except RecursionError:
            abort(400, messages={"json": ["JSON nested too deeply."]})
        except jsonbody.UnusableJson as e:
            abort(400, messages={"json": [f"{e}."]})
        if has_unstorable_text(data):
            abort(422, messages={"json": {"_schema": [jsonbody.TEXT_RULE]}})
        return data


class _Blueprint(Blueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = _JsonBodyParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING: ClassVar[dict[str, str]] = {
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Any:
        """flask-smorest's, with a schema class made an instance here, once: webargs would
        make one for every request (≈ 40 µs of a verification's CPU)."""
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)


bp = _Blueprint("v1", __name__, url_prefix="/api/v1", description="职业技能等级证书 API")


@bp.before_request
def _refuse_unstorable_text() -> None:
    """NUL or a lone surrogate (``core.unicode.UNSTORABLE``) in a path, query or
    Idempotency-Key names nothing that exists: a path is a 404, a query or the header a 422."""
    if has_unstorable_text(list((request.view_args or {}).values())):
        raise HTTPNotFound()
    forbidden = UNSTORABLE.search
    bad = sorted({k for k, v in request.args.items(multi=True) if forbidden(k) or forbidden(v)})
    if bad:
        abort(422, messages={"query": {k: [jsonbody.TEXT_RULE] for k in bad}})
    if forbidden(request.headers.get("Idempotency-Key", "")):
        rule, rule_zh = jsonbody.TEXT_RULE, jsonbody.TEXT_RULE_ZH
        raise InvalidInput("invalid_idempotency_key", f"Idempotency-Key: {rule}", f"Idempotency-Key：{rule_zh}")


PUBLIC_ENDPOINTS = {
    "v1.verify",
    "v1.Lookup",
    "v1.trust_bundle",
    "v1.status_list",
    "v1.tree_head",
    "v1.inclusion_proof",
    "v1.consistency_proof",
    "v1.log_entries",
}


@bp.before_request
def _authenticate_first() -> None:
    """A protected endpoint answers 401 to a caller without a valid key before it reads the
    body: an anonymous caller learns nothing from validation messages."""
    if request.endpoint not in PUBLIC_ENDPOINTS and current_principal() is None:
        raise Unauthenticated(
            "authentication_required",
            "an API key is required (Authorization: Bearer <key>)",
            "需要API密钥（Authorization: Bearer <密钥>）",
        )


IDEMPOTENCY_KEY = bp.doc(
    parameters=[
        {
            "in": "header",
            "name": "Idempotency-Key",
            "required": False,
            "description": "a retry with the same key returns the first answer (Idempotency-Replayed: true); "
            "the same key with another body is a 409",
            "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": TEXT_PATTERN},
        }
    ]
)
"""The header of the operations that issue; ``_refuse_unstorable_text`` and the service check it."""


BUSY = "service_busy: no database connection came free in time; retry after Retry-After seconds"


def _errors(*statuses: int) -> Any:
    """Document the error answers of an operation: ``statuses``, and the 503 any operation
    may answer when the service sheds load."""

    def wrap(f: Any) -> Any:
        for status in statuses:
            f = bp.alt_response(status, schema=ErrorSchema, description="error")(f)
        return bp.alt_response(503, schema=ErrorSchema, description=BUSY)(f)

    return wrap


def _scope(items: list[dict[str, Any]]) -> list[ScopeItem]:
    return [
        ScopeItem(i["occupation"], tuple(i["levels"]), tuple(i["work_types"]), i["edition"] or EDITION_2022)
        for i in items
    ]


def _principal() -> Principal | None:
    return current_principal()


# --- organizations (authority) -------------------------------------------------------------


@bp.route("/organizations")
class Organizations(MethodView):
    @bp.response(200, s.OrganizationOut(many=True))
    @_errors(401, 403)
    def get(self) -> list[dict[str, Any]]:
        """List registered organizations (authority admin, auditor)."""
        app = use_cases()
        return [present.organization(app.ctx, o) for o in app.registry.list(_principal())]

    @bp.arguments(s.RegistrationIn)
    @bp.response(201, s.OrganizationOut)
    @_errors(401, 403, 409, 422)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register (备案) an organization: generates its key and certificate (authority admin)."""
        app = use_cases()
        reg = Registration(
            body["type"],
            body["authority_code"],
            body["province"],
            body["site_code"],
            body["name"],
            tuple(_scope(body["scope"])),
            body["registered_from"],
            body["registered_until"],
        )
        return present.organization(app.ctx, app.registry.register(_principal(), reg))


@bp.route("/organizations/<string:code>")
class OrganizationView(MethodView):
    @bp.response(200, s.OrganizationOut)
    @_errors(401, 403, 404)
    def get(self, code: str) -> dict[str, Any]:
        """One organization (authority admin, auditor, or the organization itself)."""
        app = use_cases()
        return present.organization(app.ctx, app.registry.read(_principal(), code))


def _status_route(status: str, doc: str) -> None:
    def view(body: dict[str, Any], code: str) -> dict[str, Any]:
        app = use_cases()
        org = app.registry.change_status(_principal(), code, status, since=body["since"], note=body["note"])
        return present.organization(app.ctx, org)

    view.__doc__ = doc
    view.__name__ = f"organization_{status}"
    endpoint = {"suspended": "suspend", "active": "resume", "cancelled": "cancel"}[status]
    bp.route(f"/organizations/<string:code>/{endpoint}", methods=["POST"])(
        bp.arguments(s.StatusChangeIn, required=False)(
            bp.response(200, s.OrganizationOut)(_errors(401, 403, 404, 409, 422)(view))
        )
    )


_status_route("suspended", "Suspend an organization from a date (authority admin).")
_status_route("active", "Resume a suspended organization (authority admin).")
_status_route("cancelled", "Cancel a registration for good (authority admin).")


@bp.route("/organizations/<string:code>/scope", methods=["PUT"])
@bp.arguments(s.ScopeUpdateIn)
@bp.response(200, s.OrganizationOut)
@_errors(401, 403, 404, 422)
def set_scope(body: dict[str, Any], code: str) -> dict[str, Any]:
    """Replace the scope from a date; removed entries are closed, not deleted (authority admin)."""
    app = use_cases()
    org = app.registry.set_scope(_principal(), code, _scope(body["scope"]), effective=body["effective"])
    return present.organization(app.ctx, org)


@bp.route("/organizations/<string:code>/keys/rotate", methods=["POST"])
@bp.response(200, s.OrganizationOut)
@_errors(401, 403, 404)
def rotate_key(code: str) -> dict[str, Any]:
    """Certify a new key; the old one is retired and keeps verifying (authority admin)."""
    app = use_cases()
    app.registry.rotate_key(_principal(), code)
    return present.organization(app.ctx, app.registry.read(_principal(), code))


@bp.route("/organizations/<string:code>/keys/<string:kid>/compromise", methods=["POST"])
@bp.arguments(s.CompromiseIn, required=False)
@bp.response(200, s.OrganizationOut)
@_errors(401, 403, 404, 409, 422)
def compromise_key(body: dict[str, Any], code: str, kid: str) -> dict[str, Any]:
    """Revoke a compromised key from a time (authority admin)."""
    app = use_cases()
    app.registry.compromise_key(_principal(), code, kid, compromised_at=body["compromised_at"])
    return present.organization(app.ctx, app.registry.read(_principal(), code))


def _base64_image(value: str | None, what: str) -> bytes | None:
    if value is None:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("invalid_image", f"{what} is not base64", f"{what}不是base64编码") from None


@bp.route("/organizations/<string:code>/appearance", methods=["PUT"])
@bp.arguments(s.AppearanceIn)
@bp.response(200, s.OrganizationOut)
@_errors(401, 403, 404, 422)
def set_appearance(body: dict[str, Any], code: str) -> dict[str, Any]:
    """Choose the certificate layout and the background, logo and seal images (the organization or the authority)."""
    app = use_cases()
    assets = Assets(
        background=_base64_image(body["background"], "background"),
        logo=_base64_image(body["logo"], "logo"),
        seal=_base64_image(body["seal"], "seal"),
    )
    org = app.registry.set_appearance(_principal(), code, layout=body["layout"], assets=assets)
    return present.organization(app.ctx, org)


# --- certificates (organization) ------------------------------------------------------------


def _issue_request(body: dict[str, Any]) -> IssueRequest:
    photo = None
    if body["photo"]:
        try:
            photo = base64.b64decode(body["photo"], validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("invalid_photo", "photo is not base64", "照片不是base64编码") from None
    competition = body.get("competition")
    return IssueRequest(
        holder_name=body["holder_name"],
        document_type=body["document_type"],
        document_number=body["document_number"],
        occupation=body["occupation"],
        level=body["level"],
        scores=dict(body["scores"]),
        work_type=body["work_type"],
        issue_date=body["issue_date"],
        photo=photo,
        replaces=body["replaces"],
        method=body["method"],
        passed_on=dict(body["passed_on"]),
        placing=(
            Placing(competition["tier"], competition["rank"], competition["held_level"], competition["date"])
            if competition is not None
            else None
        ),
        edition=body["edition"],
    )


@bp.route("/certificates")
class Certificates(MethodView):
    @bp.arguments(s.SearchArgs, location="query")
    @bp.response(200, s.CertificatePage)
    @_errors(401, 403, 422)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Search the organization's own certificates (organization issuer)."""
        app = use_cases()
        principal = _principal()
        page = app.certificates.search(principal, Search(**args))
        assert principal is not None
        return {
            "items": [present.certificate(app.ctx, r, principal) for r in page.items],
            "total": page.total,
            "page": page.page,
            "per_page": page.per_page,
        }

    @bp.arguments(s.IssueIn)
    @IDEMPOTENCY_KEY
    @bp.response(201, s.CertificateOut)
    @_errors(401, 403, 409, 422)
    def post(self, body: dict[str, Any]) -> Any:
        """Issue a certificate (organization issuer). Send an ``Idempotency-Key`` header:
        a retry with the same key returns the first answer and consumes no number."""
        app = use_cases()
        principal = _principal()
        record, replayed = app.issuing.issue(
            principal, _issue_request(body), idempotency_key=request.headers.get("Idempotency-Key")
        )
        assert principal is not None
        headers = {"Idempotency-Replayed": "true" if replayed else "false"}
        return present.certificate(app.ctx, record, principal), 201, headers


@bp.route("/certificates/<string:number>")
class CertificateView(MethodView):
    @bp.response(200, s.CertificateOut)
    @_errors(401, 403, 404)
    def get(self, number: str) -> dict[str, Any]:
        """One certificate in full (its organization) or masked (authority admin)."""
        app = use_cases()
        principal = _principal()
        record = app.certificates.get(principal, number)
        assert principal is not None
        return present.certificate(app.ctx, record, principal)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _binary(*media_types: str) -> dict[str, Any]:
    """The document of a response whose body is a file, not JSON."""
    return {"content": {t: {"schema": {"type": "string", "format": "binary"}} for t in media_types}}


MAX_BATCH_UPLOAD = 200 * 1024 * 1024


@bp.before_request
def _allow_large_rosters() -> None:
    """A roster with its photos may be far larger than the 1 MiB other requests may be."""
    if request.endpoint == "v1.Batches":
        request.max_content_length = MAX_BATCH_UPLOAD


def _read_upload(storage: Any, what: str, what_zh: str) -> bytes:
    return _upload_stream(storage, what, what_zh).read()


def _upload_stream(storage: Any, what: str, what_zh: str) -> Any:
    """The uploaded file as a seekable stream (werkzeug spools large uploads to disk)."""
    stream = getattr(storage, "stream", None)
    if stream is None or not hasattr(storage, "filename"):
        raise InvalidInput(f"invalid_{what}", f"{what} must be an uploaded file", f"{what_zh}应为上传的文件")
    return stream


@bp.route("/batches")
class Batches(MethodView):
    @bp.response(200, s.BatchListOut)
    @_errors(401, 403)
    def get(self) -> dict[str, Any]:
        """The organization's latest 50 batches, newest first (organization issuer)."""
        found = use_cases().batches.recent(_principal())
        return {"items": [present.batch(b, _batch_path(b.id)) for b in found]}

    @bp.arguments(s.BatchUploadIn, location="multipart")
    @IDEMPOTENCY_KEY
    @bp.response(202, s.BatchStatusOut)
    @_errors(401, 403, 409, 413, 422, 429)
    def post(self, form: dict[str, Any]) -> Any:
        """Upload one exam session's roster (multipart: ``roster`` CSV/XLSX, optional
        ``photos`` ZIP). Answered at once (202) with the batch, ``validating``, and its
        address (``Location``): every row is validated in the background, then the batch is
        issued (``issuing``, serials in one contiguous block per level) and its images
        (``formats``, ``dpi``) drawn (``rendering``) until ``done``. By default a roster with
        any invalid row issues nothing (``rejected``, with every problem);
        ``valid_rows_only`` issues the valid ones; ``dry_run`` only validates (``checked``).
        Only what is cheap is checked here (a readable roster of at most
        ``ISSUER_MAX_ROSTER_ROWS`` rows, else 422 ``roster_too_large``; a readable photos
        ZIP; the output options). An organization validates at most
        ``ISSUER_MAX_VALIDATIONS_PER_ORG`` rosters at once: one more is a 429
        ``too_many_validations`` with ``Retry-After``. Send an ``Idempotency-Key``: a retry
        answers the same batch and validates nothing twice."""
        app = use_cases()
        upload = Upload(
            roster=_read_upload(form["roster"], "roster", "名单"),
            filename=getattr(form["roster"], "filename", None) or "roster",
            photos=_upload_stream(form["photos"], "photos", "照片包") if form["photos"] is not None else None,
            valid_rows_only=form["valid_rows_only"],
            formats=tuple(sorted(form["formats"].split(","), key=DEFAULT_FORMATS.index)),
            dpi=form["dpi"],
            dry_run=form["dry_run"],
        )
        batch, replayed = app.batches.submit(
            _principal(), upload, idempotency_key=request.headers.get("Idempotency-Key")
        )
        response = jsonify(s.BatchStatusOut().dump(present.batch(batch, _batch_path(batch.id))))
        response.status_code = 202
        response.headers["Location"] = _batch_path(batch.id)
        response.headers["Idempotency-Replayed"] = "true" if replayed else "false"
        return response


def _batch_path(batch_id: str) -> str:
    return f"/api/v1/batches/{batch_id}"


@bp.route("/batches/<string:batch_id>")
@bp.response(200, s.BatchStatusOut)
@_errors(401, 403, 404)
def batch_status(batch_id: str) -> dict[str, Any]:
    """A batch's status and progress: ``validating`` (``checked`` of ``rows``),
    ``issuing``, ``rendering`` (``rendered`` of ``issued`` drawn), ``done`` (the archive's
    address, size and SHA-256); ``checked`` (a dry run), ``rejected`` (``refusal`` and
    every problem in ``report``) or ``failed`` (``error``) (organization issuer)."""
    batch = use_cases().batches.status(_principal(), batch_id)
    return present.batch(batch, _batch_path(batch.id))


@bp.route("/batches/<string:batch_id>/result")
@bp.response(200, description="XLSX: every roster row, its certificate number or its problems")
@bp.doc(responses={200: _binary(XLSX)})
@_errors(401, 403, 404, 409)
def batch_result(batch_id: str) -> Any:
    """The result spreadsheet (发证结果, as in the archive) once the roster is validated:
    each row's certificate number, or 未发证 with its problems (a rejected roster's report).
    409 ``batch_not_ready`` while it is being validated (organization issuer)."""
    out = io.BytesIO()
    batch = use_cases().batches.result(_principal(), batch_id, out)
    response = current_app.response_class(out.getvalue(), mimetype=XLSX)
    response.headers["Content-Disposition"] = f"attachment; filename=result-{batch.id}.xlsx"
    return response


@bp.route("/batches/<string:batch_id>/archive")
@bp.response(200, description="ZIP: png/<number>_<name>.png, pdf/<number>_<name>.pdf and result.xlsx (row → number)")
@bp.doc(
    responses={
        200: _binary("application/zip"),
        206: {"description": "the part a Range header asked for", **_binary("application/zip")},
        304: {"description": "not modified (If-None-Match)"},
    }
)
@_errors(401, 403, 404, 409, 416)
def batch_archive(batch_id: str) -> Any:
    """The finished batch as one ZIP archive: every certificate's image and PDF once, and
    the result spreadsheet mapping each roster row to its number or its problems. Supports
    ``Range`` for resuming a download. 409 while the images are being drawn."""
    from flask import send_file

    path, current = use_cases().batches.archive(_principal(), batch_id)
    response = send_file(
        path,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"batch-{current.id}.zip",
        conditional=True,
        etag=current.archive_sha256 or True,
        max_age=0,
    )
    response.headers["X-Content-SHA256"] = current.archive_sha256 or ""
    return response


@bp.route("/batches/<string:batch_id>/pdf")
@bp.response(200, description="PDF: a page per certificate not revoked, in certificate-number order")
@bp.doc(responses={200: _binary("application/pdf")})
@_errors(401, 403, 404, 409)
def batch_pdf(batch_id: str) -> Any:
    """The batch's certificates as one PDF to print (``<batch id>_证书.pdf``): a page per
    certificate, each the page of its own PDF, in certificate-number order; revoked
    certificates are left out. Drawn when asked, from the certificates themselves: ready
    once the batch is issued, while its images are being drawn and after its archive
    expired. 409 while the roster is validated (``batch_not_ready``), for a batch that
    issued nothing (``batch_rejected``, ``batch_not_issued``, ``batch_failed``) and when
    every certificate is revoked (``batch_nothing_to_print``) (organization issuer)."""
    from flask import send_file

    printed = use_cases().batches.print_pdf(_principal(), batch_id)
    response = send_file(printed.file, mimetype="application/pdf", max_age=0)
    response.content_length = printed.size
    response.headers["Content-Disposition"] = content_disposition(
        "attachment", printed.filename, f"{printed.batch.id}.pdf"
    )
    return response


@bp.route("/batches/template")
@bp.response(200, description="XLSX roster template")
@bp.doc(responses={200: _binary(XLSX)})
@_errors(401, 403)
def batch_template() -> Any:
    """A roster template (XLSX) with the Chinese headers and one example row (organization issuer)."""
    require_role(_principal(), Role.ORG_ISSUER)
    response = current_app.response_class(
        roster.roster_template_xlsx(),
        mimetype=XLSX,
    )
    response.headers["Content-Disposition"] = "attachment; filename*=UTF-8''roster-template.xlsx"
    return response


@bp.route("/certificates/<string:number>/image")
@bp.arguments(s.ImageArgs, location="query")
@bp.response(200, description="PNG or PDF of the printable certificate (A4)")
@bp.doc(responses={200: _binary("image/png", "application/pdf"), 304: {"description": "not modified (If-None-Match)"}})
@_errors(401, 403, 404, 409, 422)
def certificate_image(args: dict[str, Any], number: str) -> Any:
    """The printable certificate as PNG (default 300 dpi) or one-page A4 PDF (its organization).
    The same certificate renders the same bytes: responses carry an ETag and are cached."""
    rendered = use_cases().images.render(_principal(), number, fmt=args["format"], dpi=args["dpi"])
    etag = f'"{rendered.etag}"'
    if etag in request.headers.get("If-None-Match", ""):
        return current_app.response_class(status=304, headers={"ETag": etag})
    response = current_app.response_class(rendered.data, mimetype=rendered.mimetype)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["Content-Disposition"] = content_disposition(
        "inline", rendered.filename, f"{number.upper()}.{args['format']}"
    )
    return response


@bp.route("/certificates/<string:number>/revoke", methods=["POST"])
@bp.arguments(s.RevokeIn)
@bp.response(200, s.CertificateOut)
@_errors(401, 403, 404, 409, 422)
def revoke(body: dict[str, Any], number: str) -> dict[str, Any]:
    """Revoke a certificate with a reason (its organization, or the authority admin)."""
    app = use_cases()
    principal = _principal()
    record = app.revoking.revoke(principal, number, reason=body["reason"], note=body["note"])
    assert principal is not None
    return present.certificate(app.ctx, record, principal)


# --- public -----------------------------------------------------------------------------------


@bp.route("/verify", methods=["POST"])
@bp.arguments(s.VerifyIn)
@bp.response(200, s.VerifyOut)
@_errors(422)
def verify(body: dict[str, Any]) -> Response:
    """Verify a scanned QR text: the offline verdict plus live revocation status (public)."""
    return jsonify(present.verification(use_cases().verifying.verify_text(body["qr_text"])))


def _lookup(args: dict[str, Any]) -> dict[str, Any]:
    app = use_cases()
    current_app.extensions["issuer.lookup_limiter"].hit(request.remote_addr or "unknown")
    return present.lookup(app.ctx, app.verifying.lookup(args["number"], args["name"], args["document_number"]))


@bp.route("/lookup")
class Lookup(MethodView):
    @bp.arguments(s.LookupArgs, location="query")
    @bp.response(200, s.LookupOut)
    @_errors(404, 422, 429)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Find a certificate by number + name + document number, as the national lookup does
        (public, rate-limited, masked). Prefer POST: query strings end up in access logs."""
        return _lookup(args)

    @bp.arguments(s.LookupArgs)
    @bp.response(200, s.LookupOut)
    @_errors(404, 422, 429)
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """The same lookup with the three fields in a JSON body."""
        return _lookup(args)


@bp.route("/trust-bundle")
@bp.response(200, s.BundleOut)
@_errors()
def trust_bundle() -> Any:
    """Everything an offline verifier or auditor needs in one file (public): the root
    certificate, the signed trust list, every organization's signed status list and the
    latest signed tree head of the transparency log. Save it with `issuer trust pull`."""
    _, bundle = use_cases().publishing.bundle()
    etag = hashlib.sha256(json.dumps(bundle, sort_keys=True).encode()).hexdigest()[:32]
    return bundle, 200, {"ETag": f'"{etag}"', "Cache-Control": "public, max-age=300"}


SHORT_CACHE = "public, max-age=60"
"""What the next issuance or revocation changes: the latest head, a proof against it."""
LONG_CACHE = "public, max-age=86400"
"""What never changes: a proof between signed sizes, a full page of entries."""


@bp.route("/status-lists/<string:code>")
@bp.arguments(s.StatusListArgs, location="query")
@bp.response(200, s.StatusListOut, description="JSON; with ?format=cose the signed list itself (application/cose)")
@bp.doc(responses={200: _binary("application/cose")})
@_errors(404, 422)
def status_list(args: dict[str, Any], code: str) -> Any:
    """An organization's revocation status list, signed by its key (public): bit ``i`` set
    means the certificate with status index ``i`` is revoked. ``?format=cose`` gives the
    COSE_Sign1 bytes as they are in the trust bundle."""
    signed = use_cases().publishing.status_list(code)
    headers = {"Cache-Control": "public, max-age=300"}
    if args["format"] == "cose":
        return current_app.response_class(signed, mimetype="application/cose", headers=headers)
    return present.status_list(signed), 200, headers


def _latest_head() -> TreeHead:
    head = use_cases().log.latest_head()
    if head is None:
        raise NotFound("log_empty", "the log is empty", "日志为空")
    return head


@bp.route("/log/tree-head")
@bp.response(200, s.TreeHeadOut)
@_errors(404)
def tree_head() -> Any:
    """The latest signed tree head of the transparency log (public); 404 ``log_empty``."""
    return _latest_head().to_json(), 200, {"Cache-Control": SHORT_CACHE}


@bp.route("/log/proof/inclusion")
@bp.arguments(s.InclusionArgs, location="query")
@bp.response(200, s.InclusionOut)
@_errors(404, 422)
def inclusion_proof(args: dict[str, Any]) -> Any:
    """The proof that a leaf is in the tree of ``tree_size`` (default: the latest signed
    head), with that signed head (public). Name the leaf by ``leaf_index`` or by a
    certificate ``number`` (its issuance), exactly one of them."""
    if ("leaf_index" in args) == ("number" in args):
        raise InvalidInput(
            "leaf_index_or_number",
            "give exactly one of leaf_index and number",
            "请提供leaf_index或number中的一个（且仅一个）",
        )
    log = use_cases().log
    found = log.inclusion(leaf_index=args.get("leaf_index"), number=args.get("number"), tree_size=args.get("tree_size"))
    body = {
        "leaf_index": found.leaf_index,
        "tree_size": found.tree_size,
        "leaf_hash": found.leaf_hash.hex(),
        "proof": [p.hex() for p in found.proof],
        "tree_head": log.head(found.tree_size).to_json(),
    }
    return body, 200, {"Cache-Control": LONG_CACHE if "tree_size" in args else SHORT_CACHE}


@bp.route("/log/proof/consistency")
@bp.arguments(s.ConsistencyArgs, location="query")
@bp.response(200, s.ConsistencyOut)
@_errors(404, 422)
def consistency_proof(args: dict[str, Any]) -> Any:
    """The proof that the tree of size ``second`` extends the tree of size ``first`` (both
    sizes of signed tree heads) (public)."""
    proof = use_cases().log.consistency(args["first"], args["second"])
    body = {"first": args["first"], "second": args["second"], "proof": [p.hex() for p in proof]}
    return body, 200, {"Cache-Control": LONG_CACHE}


@bp.route("/log/entries")
@bp.arguments(s.EntriesArgs, location="query")
@bp.response(200, s.EntriesOut)
@_errors(422)
def log_entries(args: dict[str, Any]) -> Any:
    """Log entries ``start`` to ``end - 1`` (at most 1000 a time; fewer past the end of the
    log), each the deterministic CBOR that was hashed into the tree (public)."""
    start, end = args["start"], args["end"]
    log = use_cases().log
    found = log.entries(start, end)
    head = log.latest_head()
    body = {"entries": [present.log_entry(i, data) for i, data in found], "tree_size": head.tree_size if head else 0}
    return body, 200, {"Cache-Control": LONG_CACHE if len(found) == end - start else SHORT_CACHE}


# --- administration ---------------------------------------------------------------------------


def _key_out(info: KeyInfo, secret: str | None = None) -> dict[str, Any]:
    out = asdict(info)
    if secret:
        out["key"] = secret
    return out


@bp.route("/api-keys")
class ApiKeys(MethodView):
    @bp.response(200, s.ApiKeyOut(many=True))
    @_errors(401, 403)
    def get(self) -> list[dict[str, Any]]:
        """List API keys, never their secrets (authority admin)."""
        return [_key_out(k) for k in use_cases().api_keys.list(_principal())]

    @bp.arguments(s.ApiKeyIn)
    @bp.response(201, s.ApiKeyOut)
    @_errors(401, 403, 404, 422)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create an API key; the secret is in this response only (authority admin)."""
        new = use_cases().api_keys.create(
            _principal(), role=body["role"], name=body["name"], organization=body["organization"]
        )
        return _key_out(new.info, new.secret)


@bp.route("/api-keys/<string:key_id>", methods=["DELETE"])
@bp.response(200, s.ApiKeyOut)
@_errors(401, 403, 404)
def revoke_api_key(key_id: str) -> dict[str, Any]:
    """Revoke an API key (authority admin)."""
    return _key_out(use_cases().api_keys.revoke(_principal(), key_id))


@bp.route("/audit")
@bp.arguments(s.AuditArgs, location="query")
@bp.response(200, s.AuditPage)
@_errors(401, 403)
def audit_events(args: dict[str, Any]) -> dict[str, Any]:
    """The hash-chained audit trail of administrative actions (authority admin, auditor)."""
    page = use_cases().audit.read(_principal(), after_id=args["after_id"], limit=args["limit"])
    return {
        "events": page.events,
        "chain_intact": page.intact,
        "first_broken": page.broken.to_json() if page.broken else None,
    }


def _dev_clock() -> Any:
    from issuer.service.devclock import SettableClock

    require_role(_principal(), Role.AUTHORITY_ADMIN)
    clock = use_cases().ctx.clock
    if not isinstance(clock, SettableClock):
        raise NotFound(
            "no_dev_clock", "the clock is settable only with ISSUER_CLOCK", "仅在设置ISSUER_CLOCK时可调整时钟"
        )
    return clock


@bp.route("/dev/clock")
class DevClock(MethodView):
    """Development only (``ISSUER_CLOCK`` set): the service's clock, to try how verdicts
    follow lifecycle events without touching the database (authority admin)."""

    @bp.response(200, s.ClockOut)
    @_errors(401, 403, 404)
    def get(self) -> dict[str, Any]:
        """The service's time (development only)."""
        return {"now": _dev_clock()()}

    @bp.arguments(s.ClockIn)
    @bp.response(200, s.ClockOut)
    @_errors(401, 403, 404, 422)
    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        """Set the service's time; it runs on from there (development only)."""
        clock = _dev_clock()
        clock.set(body["now"])
        return {"now": clock()}


@bp.route("/statistics")
@bp.response(200, s.StatisticsRow(many=True))
@_errors(401, 403)
def statistics() -> list[dict[str, object]]:
    """Certificates issued and revoked per organization and level; no personal data (auditor, authority admin)."""
    return [asdict(row) for row in use_cases().certificates.statistics(_principal())]
