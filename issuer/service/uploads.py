"""Uploaded rosters and photos archives, kept until their batch is validated and issued (or
rejected): the upload is answered at once and validated by a background job, possibly in
another process (``issuer worker``), so the files wait on disk, under ``ISSUER_BATCH_DIR``,
which the service and its workers share.

They hold personal data (names, document numbers, faces), so they are stored encrypted:
AES-256-GCM (SM4-GCM in the 国密 profile, ``pii.upload_aead``) under a key derived from
``ISSUER_DATA_KEY``, which every process of the deployment has, in blocks of ``BLOCK`` bytes
so that a 200 MB photos archive is neither held in memory nor written out in clear to be
read. Each block's nonce is the file's random prefix and the block's index, and its
associated data names the batch, the part and the file's length: a block cannot be moved to
another place, file or batch, and a file cut short does not decrypt. ``open`` gives a
seekable file object that decrypts the block it reads (a ZIP is read from its end first)."""

from __future__ import annotations

import io
import os
import re
import shutil
import struct
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import IO

from cryptography.exceptions import InvalidTag

from issuer.service.pii import Aead

BLOCK = 1 << 20
"""Plaintext bytes per encrypted block."""
MAGIC = b"ISU1"
_HEADER = struct.Struct(">4s8sQ")
"""The magic, the nonce prefix, the plaintext's length."""
TAG = 16
PARTS = ("roster", "photos")
_BATCH_ID = re.compile(r"[0-9a-f]{32}")


class UploadUnreadable(Exception):
    """A stored upload is missing or does not decrypt (deleted, damaged, another data key)."""


def _aad(batch_id: str, part: str, length: int, index: int) -> bytes:
    return f"{batch_id}/{part}/{length}/{index}".encode()


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + index.to_bytes(4, "big")


class Uploads:
    """The uploads waiting for their batch's validation, one folder per batch."""

    def __init__(self, folder: Path, aead: Aead) -> None:
        self.folder = folder
        self._aead = aead

    def _path(self, batch_id: str, part: str) -> Path:
        if not _BATCH_ID.fullmatch(batch_id) or part not in PARTS:
            raise ValueError(f"no upload part {part!r} of batch {batch_id!r}")
        return self.folder / batch_id / f"{part}.sealed"

    def save(self, batch_id: str, part: str, data: bytes | IO[bytes]) -> None:
        """Encrypt ``data`` (bytes, or a seekable stream read from its start) into the
        batch's ``part``: written under a temporary name, then renamed."""
        stream = io.BytesIO(data) if isinstance(data, bytes) else data
        length = stream.seek(0, io.SEEK_END)
        stream.seek(0)
        path = self._path(batch_id, part)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        prefix = os.urandom(8)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
                out.write(_HEADER.pack(MAGIC, prefix, length))
                index = 0
                while block := stream.read(BLOCK):
                    aad = _aad(batch_id, part, length, index)
                    out.write(self._aead.encrypt(_nonce(prefix, index), block, aad))
                    index += 1
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        stream.seek(0)

    def has(self, batch_id: str, part: str) -> bool:
        return self._path(batch_id, part).exists()

    def open(self, batch_id: str, part: str) -> IO[bytes]:
        """The part, decrypted as it is read (seekable); ``UploadUnreadable`` when it is
        not stored or its header is damaged (a damaged block raises it when read)."""
        try:
            raw = open(self._path(batch_id, part), "rb")  # noqa: SIM115 - owned by the reader
        except FileNotFoundError:
            raise UploadUnreadable(f"the uploaded {part} of batch {batch_id} is no longer stored") from None
        try:
            return io.BufferedReader(_SealedReader(raw, self._aead, batch_id, part), buffer_size=BLOCK)
        except BaseException:
            raw.close()
            raise

    def read(self, batch_id: str, part: str) -> bytes:
        with self.open(batch_id, part) as stream:
            return stream.read()

    def delete(self, batch_id: str) -> None:
        """Remove the batch's uploads (nothing when there are none)."""
        if _BATCH_ID.fullmatch(batch_id):
            shutil.rmtree(self.folder / batch_id, ignore_errors=True)

    def age(self, batch_id: str) -> timedelta:
        """How long ago the batch's uploads were stored."""
        folder = self.folder / batch_id
        return timedelta(seconds=max(0.0, time.time() - folder.stat().st_mtime)) if folder.exists() else timedelta(0)

    def stored(self) -> list[str]:
        """The batches whose uploads are on disk."""
        if not self.folder.is_dir():
            return []
        return sorted(p.name for p in self.folder.iterdir() if _BATCH_ID.fullmatch(p.name))


class _SealedReader(io.RawIOBase):
    """A stored part, decrypted a block at a time as it is read."""

    def __init__(self, raw: IO[bytes], aead: Aead, batch_id: str, part: str) -> None:
        self._raw = raw
        self._aead = aead
        header = raw.read(_HEADER.size)
        if len(header) != _HEADER.size or header[:4] != MAGIC:
            raise UploadUnreadable(f"the uploaded {part} of batch {batch_id} is damaged")
        _, self._prefix, self._length = _HEADER.unpack(header)
        self._batch_id, self._part = batch_id, part
        self._position = 0
        self._index = -1
        self._block = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._length}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._position < self._length:
            index, offset = divmod(self._position, BLOCK)
            block = self._load(index)
            n = min(len(view) - done, len(block) - offset)
            view[done : done + n] = block[offset : offset + n]
            done += n
            self._position += n
        return done

    def _load(self, index: int) -> bytes:
        if index != self._index:
            size = min(BLOCK, self._length - index * BLOCK)
            self._raw.seek(_HEADER.size + index * (BLOCK + TAG))
            sealed = self._raw.read(size + TAG)
            try:
                aad = _aad(self._batch_id, self._part, self._length, index)
                self._block = self._aead.decrypt(_nonce(self._prefix, index), sealed, aad)
            except (InvalidTag, ValueError):
                raise UploadUnreadable(f"the uploaded {self._part} of batch {self._batch_id} is damaged") from None
            self._index = index
        return self._block

    def close(self) -> None:
        self._raw.close()
        super().close()
