"""Certificate images for the issuing organization: its layout and images, the full
document number (the printed certificate goes to the holder), cached because the same
certificate always renders the same bytes."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

from issuer.core import cose, qrtext
from issuer.core.credential import decode_payload
from issuer.core.errors import Conflict, InvalidInput
from issuer.render import DPIS, Assets, CertificateView, default_renderer, load_layout, view_for
from issuer.service.certificates import document_number, visible
from issuer.service.context import Context
from issuer.service.filenames import certificate_file
from issuer.service.principal import Principal, Role, require_role
from issuer.store.records import CertificateRecord

FORMATS = {"png": "image/png", "pdf": "application/pdf"}


@dataclass(frozen=True)
class Rendered:
    data: bytes
    mimetype: str
    etag: str
    filename: str
    """``<number>_<name>.<fmt>`` (``filenames.certificate_file``)."""


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


def certificate_view(
    ctx: Context, record: CertificateRecord, photo: bytes | None, organization_name: str, layout: str
) -> CertificateView:
    """What a certificate prints: its signed credential and QR text, the full document
    number (the printed certificate goes to the holder) and the photo."""
    return view_for(
        decode_payload(cose.parse(record.credential).payload),
        qr_text=qrtext.encode(record.credential, ctx.qr_host),
        organization_name=organization_name,
        document_number=document_number(ctx, record),
        photo=photo,
        english=load_layout(layout).english,
        catalogue=ctx.catalogue,
        document_types=ctx.document_types,
    )


class Images:
    def __init__(self, ctx: Context, cache: ImageCache | None = None) -> None:
        self._ctx = ctx
        self._cache = cache or ImageCache()

    def render(self, principal: Principal | None, number: str, *, fmt: str, dpi: int) -> Rendered:
        p = require_role(principal, Role.ORG_ISSUER)
        if fmt not in FORMATS:
            raise InvalidInput("invalid_format", "format must be png or pdf", "格式应为png或pdf")
        if dpi not in DPIS:
            shown = ", ".join(map(str, DPIS))
            raise InvalidInput("invalid_dpi", f"dpi must be one of {shown}", f"分辨率应为{shown} dpi之一")
        with self._ctx.reading() as uow:
            record = visible(uow, p, number)
            org = uow.organizations.get_by_id(record.organization_id)
            assert org is not None
            assets = Assets(*uow.organizations.images(org.id))
            photo = uow.certificates.photo(record.number)
        if record.revoked_at is not None:
            raise Conflict("certificate_revoked", "a revoked certificate is not printed", "已撤销的证书不能打印")
        key = hashlib.sha256(
            b"|".join([record.credential, org.layout.encode(), assets.digest.encode(), fmt.encode(), str(dpi).encode()])
            + (hashlib.sha256(photo).digest() if photo else b"")
        ).hexdigest()
        data = self._cache.get(key)
        if data is None:
            view = certificate_view(self._ctx, record, photo, org.name, org.layout)
            data = default_renderer().encode(view, fmt, layout=org.layout, assets=assets, dpi=dpi)
            self._cache.put(key, data)
        return Rendered(data, FORMATS[fmt], key[:32], certificate_file(record.number, record.holder_name, fmt))
