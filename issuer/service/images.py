"""Certificate images for the issuing organization: its layout and images, the full
document number (the printed certificate goes to the holder), cached because the same
certificate always renders the same bytes."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy.orm import Session

from issuer.core import cose, qrtext
from issuer.core.credential import decode_payload
from issuer.core.errors import Conflict, InvalidInput, NotFound
from issuer.render import DPIS, Assets, CertificateView, default_renderer, layout_names, load_layout, view_for
from issuer.service import audit, queries
from issuer.service.context import Services
from issuer.service.issuance import find_certificate
from issuer.service.pictures import check_image
from issuer.service.principal import Principal, Role, require_role
from issuer.service.registry import get_organization
from issuer.store import models as m

FORMATS = {"png": "image/png", "pdf": "application/pdf"}
MAX_ASSET_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Rendered:
    data: bytes
    mimetype: str
    etag: str


class ImageCache:
    """A small in-process LRU of rendered bytes, keyed by everything that shapes them."""

    def __init__(self, entries: int = 64) -> None:
        self._entries = entries
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: str, data: bytes) -> None:
        with self._lock:
            self._items[key] = data
            self._items.move_to_end(key)
            while len(self._items) > self._entries:
                self._items.popitem(last=False)


def assets_of(org: m.Organization) -> Assets:
    return Assets(background=org.background, logo=org.logo, seal=org.seal)


def certificate_view(svc: Services, record: m.Certificate, organization_name: str, layout: str) -> CertificateView:
    """What a certificate prints: its signed credential and QR text, the full document
    number (the printed certificate goes to the holder) and the photo. Call it while
    ``record`` is still attached to its session."""
    return view_for(
        decode_payload(cose.parse(record.credential).payload),
        qr_text=qrtext.encode(record.credential, svc.qr_host),
        organization_name=organization_name,
        document_number=queries.document_number(svc, record),
        photo=record.photo,
        english=load_layout(layout).english,
        catalogue=svc.catalogue,
        document_types=svc.document_types,
    )


def render(
    svc: Services, principal: Principal | None, number: str, *, fmt: str, dpi: int, cache: ImageCache
) -> Rendered:
    p = require_role(principal, Role.ORG_ISSUER)
    if fmt not in FORMATS:
        raise InvalidInput("invalid_format", "format must be png or pdf", "格式应为png或pdf")
    if dpi not in DPIS:
        shown = ", ".join(map(str, DPIS))
        raise InvalidInput("invalid_dpi", f"dpi must be one of {shown}", f"分辨率应为{shown} dpi之一")
    with svc.db.reading() as session:
        record = find_certificate(session, p, number)
        org = record.organization
        layout, assets = org.layout, assets_of(org)
    if record.revoked_at is not None:
        raise Conflict("certificate_revoked", "a revoked certificate is not printed", "已撤销的证书不能打印")
    key = hashlib.sha256(
        b"|".join([record.credential, layout.encode(), assets.digest.encode(), fmt.encode(), str(dpi).encode()])
        + (hashlib.sha256(record.photo).digest() if record.photo else b"")
    ).hexdigest()
    data = cache.get(key)
    if data is None:
        view = certificate_view(svc, record, org.name, layout)
        data = default_renderer().encode(view, fmt, layout=layout, assets=assets, dpi=dpi)
        cache.put(key, data)
    return Rendered(data, FORMATS[fmt], key[:32])


def _image(data: bytes | None, what: str, what_zh: str) -> bytes | None:
    if data is None:
        return None
    return check_image(data, what=what, what_zh=what_zh, max_bytes=MAX_ASSET_BYTES, max_pixels=5000)


def set_appearance(
    svc: Services,
    principal: Principal | None,
    code: str,
    *,
    layout: str,
    background: bytes | None,
    logo: bytes | None,
    seal: bytes | None,
) -> m.Organization:
    """Choose the layout and images the organization's certificates print with (the
    organization itself, or the authority)."""
    p = require_role(principal, Role.ORG_ISSUER, Role.AUTHORITY_ADMIN)
    if p.role is Role.ORG_ISSUER and p.organization_code != code.strip().upper():
        raise NotFound("organization_not_found", f"no organization {code}", f"没有机构{code}")
    if layout not in layout_names():
        raise InvalidInput(
            "unknown_layout",
            f"layout must be one of {', '.join(layout_names())}",
            f"版式应为：{'、'.join(layout_names())}",
        )
    images = (_image(background, "background", "背景图"), _image(logo, "logo", "标志"), _image(seal, "seal", "印章"))

    def work(session: Session) -> m.Organization:
        now = svc.clock()
        org = get_organization(session, code)
        org.layout = layout
        org.background, org.logo, org.seal = images
        audit.append(
            session,
            at=now,
            actor=p.actor,
            action="organization.appearance",
            target=org.code,
            details={
                "layout": layout,
                "images": {
                    name: hashlib.sha256(data).hexdigest() if data else None
                    for name, data in zip(("background", "logo", "seal"), images, strict=True)
                },
            },
        )
        return org

    return svc.retrying(work)
