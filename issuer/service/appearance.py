"""What an organization's certificates look like: a layout and three images (background,
logo, seal), checked before they are stored so that nothing stored fails at print time,
and a sample certificate drawn with them before they are chosen: the organization's name
and number, an occupation of its scope, a made-up holder, marked 样张 · 未签发 across like
the issue form's preview, with a QR code that verifies nothing."""

from __future__ import annotations

from issuer.core.catalogue import EDITION_2022
from issuer.core.clock import china_date
from issuer.core.credential import Credential
from issuer.core.errors import InvalidInput
from issuer.core.identity import COMMITMENT_BYTES
from issuer.core.numbering import CertificateNumber, OrganizationCode
from issuer.render import Assets, default_renderer, layout_names, load_layout, view_for
from issuer.render.preview import mark_sample, preview_qr_text
from issuer.render.samples import PREVIEW_DPI, placeholder_photo
from issuer.service.context import Context
from issuer.service.pictures import check_image
from issuer.store.records import OrganizationRecord

MAX_ASSET_BYTES = 2 * 1024 * 1024
MAX_ASSET_PIXELS = 5000
IMAGES = {"background": "背景图", "logo": "标志", "seal": "印章"}
"""The images an organization may add, by field, with their Chinese names."""

SAMPLE_HOLDER = "张三"
SAMPLE_DOCUMENT = "11010519491231002X"
"""A 居民身份证 number that passes its check (the example of GB 11643), for the sample only."""
SAMPLE_OCCUPATION = ("6-31-01-03", 3, None)
"""电工 三级, no 工种: what a sample shows for an organization with no scope in force."""


def appearance_problems(layout: str, assets: Assets) -> dict[str, InvalidInput]:
    """Every problem of a chosen appearance, by field (``layout`` and those of ``IMAGES``),
    so that a form shows them all at once; ``checked_appearance`` raises the first."""
    problems: dict[str, InvalidInput] = {}
    layouts = layout_names()
    if layout not in layouts:
        problems["layout"] = InvalidInput(
            "unknown_layout",
            f"layout must be one of {', '.join(layouts)}",
            f"版式应为：{'、'.join(layouts)}",
            errors={"field": "layout"},
        )
    for what, what_zh in IMAGES.items():
        data = getattr(assets, what)
        if data is None:
            continue
        try:
            check_image(data, what=what, what_zh=what_zh, max_bytes=MAX_ASSET_BYTES, max_pixels=MAX_ASSET_PIXELS)
        except InvalidInput as exc:
            problems[what] = exc
    return problems


def checked_appearance(layout: str, assets: Assets) -> Assets:
    """``assets`` when the layout is shipped and each image a PNG or JPEG that decodes, at
    most ``MAX_ASSET_BYTES`` and ``MAX_ASSET_PIXELS`` a side; else the first problem, raised
    (``unknown_layout``, ``invalid_background``, ``invalid_logo``, ``invalid_seal``)."""
    for problem in appearance_problems(layout, assets).values():
        raise problem
    return assets


def sample_certificate(ctx: Context, org: OrganizationRecord, layout: str, assets: Assets) -> bytes:
    """A PNG at preview resolution of the certificate ``org`` would print with ``layout``
    and ``assets`` (already checked): its first scope entry in force, the first number of
    this year at that level, a made-up holder and the placeholder photo."""
    occupation, level, work_type = _sample_scope(org)
    today = china_date(ctx.clock())
    credential = Credential(
        number=CertificateNumber(OrganizationCode.parse(org.code, ctx.catalogue), today.year % 100, level, 1),
        holder_name=SAMPLE_HOLDER,
        document_type=1,
        document_commitment=bytes(COMMITMENT_BYTES),
        occupation=occupation,
        level=level,
        issue_date=today,
        work_type=work_type,
    )
    view = view_for(
        credential,
        qr_text=preview_qr_text(ctx.qr_host),
        organization_name=org.name,
        document_number=SAMPLE_DOCUMENT,
        photo=placeholder_photo(),
        english=load_layout(layout).english,
        catalogue=ctx.catalogue,
        document_types=ctx.document_types,
    )
    return mark_sample(default_renderer().encode(view, "png", layout=layout, assets=assets, dpi=PREVIEW_DPI))


def _sample_scope(org: OrganizationRecord) -> tuple[str, int, str | None]:
    in_force = sorted(
        (s for s in org.scope if s.valid_until is None and s.edition == EDITION_2022),
        key=lambda s: (s.occupation, s.work_types),
    )
    if not in_force:
        return SAMPLE_OCCUPATION
    first = in_force[0]
    return first.occupation, max(first.levels), first.work_types[0] if first.work_types else None
