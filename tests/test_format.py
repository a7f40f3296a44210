"""docs/FORMAT.md is the specification: its worked example is what the code produces."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from issuer.core import cose, qrtext
from issuer.core import transparency as log_format
from issuer.core.credential import encode_payload
from issuer.core.verify import verify
from tests import factories as f

FORMAT = (Path(__file__).resolve().parents[1] / "docs" / "FORMAT.md").read_text(encoding="utf-8")
EXAMPLE = FORMAT[FORMAT.index("## 11. Worked example") : FORMAT.index("## 12. ")]


def _block_after(title: str) -> str:
    """The fenced block that follows ``title`` in the worked example, joined into one line."""
    start = EXAMPLE.index(title)
    block = re.search(r"```\n(.*?)```", EXAMPLE[start:], re.S)
    assert block is not None
    return "".join(block.group(1).split())


def test_the_worked_example_is_what_the_code_signs() -> None:
    world, credential = f.world(), f.credential()
    signed = world.signer.sign(credential)
    message = cose.parse(signed)
    assert _block_after("Sig_structure,") == cose.to_be_signed(message.protected, message.payload).hex()
    assert _block_after("Signature (Ed25519") == message.signature.hex()
    assert _block_after("COSE_Sign1, ") == signed.hex()
    assert _block_after("QR text, ") == qrtext.encode(signed, f.HOST)
    assert f"Claims, {len(encode_payload(credential))} bytes" in EXAMPLE
    assert f"QR text, {len(qrtext.encode(signed, f.HOST))} characters" in EXAMPLE
    assert verify(qrtext.encode(signed, f.HOST), world.store, at=f.NOW).valid


def test_the_worked_example_log_entry_hashes_as_stated() -> None:
    signed = f.world().signer.sign(f.credential())
    entry = log_format.issue_entry(signed, f.NOW).encode()
    assert f"{len(entry)} bytes:" in EXAMPLE
    assert hashlib.sha256(b"\x00" + entry).hexdigest() in EXAMPLE
