"""What a certificate shows, every value already formatted for print (人社鉴发〔2021〕1号).

The service builds a ``CertificateView`` (``view_for`` does it from a credential); the
renderer only places and draws these strings. ``Assets`` are an organization's images.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from issuer.core.catalogue import Catalogue, default_catalogue, level
from issuer.core.credential import Credential
from issuer.core.display import date_en, date_zh
from issuer.core.identity import DocumentTypes, default_document_types

TITLE = "职业技能等级证书"
TITLE_EN = "Vocational Skill Level Certificate"
CERTIFICATE_LOOKUP = "http://jndj.osta.org.cn"
ORGANIZATION_LOOKUP = "http://pjjg.osta.org.cn"
NO_WORK_TYPE = "--"
"""Printed for 工种/职业方向 when the occupation has none: never left blank."""

BODY_ZH = (
    "本证书由{organization}颁发，表明持证人通过本评价机构组织的职业技能等级认定，具备该职业（工种）相应技能等级水平。"
)
"""The body text of the ministry's reference style as we know it (wording *unconfirmed*:
the service may pass its own)."""
BODY_EN = (
    "This is to certify that the holder has passed the vocational skill level assessment organized by the "
    "evaluation organization named below and has attained the skill level stated in this certificate."
)


FIELD_NAMES: dict[str, tuple[str, str]] = {
    "title": ("title", "证书名称"),
    "body_text": ("body text", "证书正文"),
    "holder_name": ("holder name", "姓名"),
    "document_type_name": ("document type", "证件类型"),
    "document_number": ("document number", "证件号码"),
    "occupation_name": ("occupation", "职业名称"),
    "work_type": ("work type", "工种/职业方向"),
    "level_label": ("skill level", "职业技能等级"),
    "number": ("certificate number", "证书编号"),
    "organization_name": ("organization", "发证机构"),
    "issue_date": ("issue date", "发证日期"),
    "photo": ("photo", "照片"),
    "qr": ("QR code", "二维码"),
    "certificate_lookup": ("certificate lookup site", "证书信息查询网址"),
    "organization_lookup": ("organization lookup site", "机构信息查询网址"),
    "provincial_lookup": ("provincial lookup site", "省级证书查询网址"),
    "print_serial": ("print serial", "印制流水码"),
}
"""English and Chinese names of each field, for error messages."""


def body_text_zh(organization_name: str) -> str:
    return BODY_ZH.format(organization=organization_name)


@dataclass(frozen=True)
class English:
    """English values of a bilingual certificate; a field left ``None`` prints in Chinese only."""

    body_text: str | None = BODY_EN
    holder_name: str | None = None
    document_type_name: str | None = None
    occupation_name: str | None = None
    work_type: str | None = None
    level_label: str | None = None
    organization_name: str | None = None
    issue_date: str | None = None


@dataclass(frozen=True)
class CertificateView:
    """Every string the certificate prints. ``document_number`` is shown in full: the
    printed certificate goes to its holder."""

    holder_name: str
    document_type_name: str
    document_number: str
    occupation_name: str
    work_type: str | None
    level_label: str
    number: str
    organization_name: str
    issue_date: date
    qr_text: str
    body_text: str
    photo: bytes | None = None
    title: str = TITLE
    english: English | None = None
    certificate_lookup: str = CERTIFICATE_LOOKUP
    organization_lookup: str = ORGANIZATION_LOOKUP
    provincial_lookup: str | None = None
    print_serial: str | None = None

    def text(self, key: str) -> str | None:
        """The printed Chinese text of field ``key`` (``None``: an optional field not shown)."""
        if key == "work_type":
            return self.work_type.strip() if self.work_type and self.work_type.strip() else NO_WORK_TYPE
        if key == "issue_date":
            return date_zh(self.issue_date)
        value = getattr(self, key)
        return value if value else None

    def text_en(self, key: str) -> str | None:
        return getattr(self.english, key, None) if self.english is not None else None


@dataclass(frozen=True, eq=False)
class Assets:
    """An organization's images (PNG or JPEG bytes): a full-page background, a logo and a
    seal (印章, drawn over the organization name and date; PNG with transparency)."""

    background: bytes | None = None
    logo: bytes | None = None
    seal: bytes | None = None

    @cached_property
    def digest(self) -> str:
        h = hashlib.sha256()
        for part in (self.background, self.logo, self.seal):
            h.update(b"-" if part is None else hashlib.sha256(part).digest())
        return h.hexdigest()


NO_ASSETS = Assets()


def view_for(
    credential: Credential,
    *,
    qr_text: str,
    organization_name: str,
    document_number: str,
    photo: bytes | None = None,
    english: bool = False,
    body_text: str | None = None,
    catalogue: Catalogue | None = None,
    document_types: DocumentTypes | None = None,
    provincial_lookup: str | None = None,
    print_serial: str | None = None,
) -> CertificateView:
    """The view of an issued credential, formatted as the ministry prescribes."""
    occupation = (catalogue or default_catalogue()).occupation(credential.occupation)
    doc_type = (document_types or default_document_types()).get(credential.document_type)
    lv = level(credential.level)
    return CertificateView(
        holder_name=credential.holder_name,
        document_type_name=doc_type.name_zh,
        document_number=document_number,
        occupation_name=occupation.name,
        work_type=credential.work_type,
        level_label=lv.label_zh,
        number=str(credential.number),
        organization_name=organization_name,
        issue_date=credential.issue_date,
        qr_text=qr_text,
        body_text=body_text if body_text is not None else body_text_zh(organization_name),
        photo=photo,
        english=English(
            document_type_name=doc_type.name_en,
            level_label=lv.label_en,
            issue_date=date_en(credential.issue_date),
        )
        if english
        else None,
        provincial_lookup=provincial_lookup,
        print_serial=print_serial,
    )
