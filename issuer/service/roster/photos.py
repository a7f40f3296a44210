"""The photos ZIP uploaded beside a roster (``PhotoArchive``) and how a roster's photo
name finds its file in it (``PhotoIndex``)."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from typing import IO

from issuer.service import issuing
from issuer.service.roster.columns import SPACES
from issuer.service.roster.reading import RosterError


class PhotoArchive(Mapping[str, bytes]):
    """The photos ZIP uploaded beside a roster, read member by member (never all at once),
    by file name without folders. Names that Windows stored in GBK are decoded."""

    def __init__(self, data: bytes | IO[bytes]) -> None:
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, ValueError):
            raise RosterError(
                "photos_unreadable", "the photos file is not a ZIP archive", "照片压缩包不是有效的ZIP文件"
            ) from None
        self._members = {_base_name(_zip_name(i)): i for i in infos if _is_photo_member(i)}

    def __getitem__(self, name: str) -> bytes:
        info = self._members[name]
        try:
            with self._zip.open(info) as member:
                # One byte more than a photo may have: enough for the size check to refuse it.
                return member.read(issuing.MAX_PHOTO_BYTES + 1)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, zlib.error):
            return b""  # encrypted or damaged: the photo check reports it as not an image

    def __iter__(self) -> Iterator[str]:
        return iter(self._members)

    def __len__(self) -> int:
        return len(self._members)


def _zip_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.filename.encode("cp437")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


def _is_photo_member(info: zipfile.ZipInfo) -> bool:
    name = _zip_name(info)
    return not info.is_dir() and not name.startswith("__MACOSX/") and not _base_name(name).startswith(".")


def _base_name(name: str) -> str:
    return re.split(r"[/\\]", name)[-1]


def _photo_key(name: str) -> str:
    return unicodedata.normalize("NFC", _base_name(name.strip(SPACES))).casefold()


class PhotoIndex:
    """Finds a photo by the name in the roster: folders, case and Unicode form aside, and
    without its extension when that is unambiguous."""

    def __init__(self, photos: Mapping[str, bytes] | None) -> None:
        self.photos = photos
        self.names: dict[str, str] = {}
        stems: dict[str, list[str]] = {}
        for name in photos or {}:
            key = _photo_key(name)
            self.names.setdefault(key, name)
            stems.setdefault(key.rsplit(".", 1)[0], []).append(name)
        self.stems = {stem: names[0] for stem, names in stems.items() if len(names) == 1}

    def member(self, name: str) -> str | None:
        """The archive's name for the photo the roster names."""
        if self.photos is None:
            return None
        key = _photo_key(name)
        return self.names.get(key) or self.stems.get(key)
