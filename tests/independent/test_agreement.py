# ruff: noqa: RUF005
"""The independent verifier (tests/independent/verifier.py, written from docs/FORMAT.md alone)
and the reference (issuer.core.trust + issuer.core.verify) reach the same verdicts: on every
test vector of both sets, on a seeded mutation corpus built from them, and at times around
every lifecycle event the vectors' bundles hold.

Compared: ``status`` and ``failed_check`` always, and ``reason`` whenever the independent
verifier gives one. A bundle the reference refuses to load (``TrustError``) counts as the
verdict ``bundle_unusable``, the independent verifier's name for §7 steps 1–3 failing.

The nine disagreements the first comparison found are decided in FORMAT.md and listed in
``DECIDED`` with the verdict both sides must now give; a disagreement awaiting a decision would
go in ``KNOWN`` (none does) and run as ``xfail(strict=True)``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import signed_corpus
import verifier as ind

from issuer.core import trust
from issuer.core.verify import verify as ref_verify

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
SEED = 20261129


def _at(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    qr_text: str
    bundle: bytes
    at: datetime
    expected: tuple[str, str | None, str | None] | None = None  # from a vector manifest


def _vector_sets() -> list[tuple[str, dict, dict[str, bytes]]]:
    out = []
    for name, d in (("v2", VECTORS), ("v1", VECTORS / "v1")):
        m = json.loads((d / "manifest.json").read_text("utf-8"))
        bundles = {p.name: p.read_bytes() for p in d.glob("bundle*.json")}
        out.append((name, m, bundles))
    return out


SETS = _vector_sets()


def _bundle_of(m: dict, bundles: dict[str, bytes], v: dict) -> bytes:
    return bundles[v.get("bundle", m["bundle"])]


def _qr(prefix: str, cose: bytes) -> str:
    return prefix + base64.b32encode(cose).decode("ascii").rstrip("=")


def _split(text: str) -> tuple[str, bytes]:
    prefix, _, payload = text.strip().rpartition("/")
    payload = payload.upper()
    return prefix.upper() + "/", base64.b32decode(payload + "=" * (-len(payload) % 8))


# --------------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------------


def vector_cases() -> list[Case]:
    """Every vector (its reason too when the manifest gives it), and every bundle a manifest
    lists as unusable against the first vector of its set."""
    cases = []
    for set_name, m, bundles in SETS:
        for v in m["vectors"]:
            cases.append(
                Case(
                    f"vector/{set_name}/{v['name']}",
                    "vectors",
                    v["qr_text"],
                    _bundle_of(m, bundles, v),
                    _at(v["at"]),
                    (v["status"], v["failed_check"], v.get("reason", "-")),
                )
            )
        first = m["vectors"][0]
        for u in m.get("unusable_bundles", []):
            cases.append(
                Case(
                    f"vector/{set_name}/unusable/{u['name']}",
                    "vectors",
                    first["qr_text"],
                    bundles[u["bundle"]],
                    _at(first["at"]),
                    ("bundle_unusable", None, "-"),
                )
            )
    return cases


def _pick(set_name: str, name: str) -> tuple[dict, bytes]:
    for sn, m, bundles in SETS:
        if sn == set_name:
            for v in m["vectors"]:
                if v["name"] == name:
                    return v, _bundle_of(m, bundles, v)
    raise KeyError(name)


BYTE_TARGETS = [
    ("v2", "valid-typical"),
    ("v1", "valid-typical"),
    ("v2", "revoked"),
    ("v2", "valid-expired-organization-old-certificate"),
]


def byte_cases(rng: random.Random) -> list[Case]:
    """Every byte position of a few credentials changed: all 8 single-bit flips and a random
    value (two credentials), two bit flips and a random value (two more); all 255 other values
    of the first 10 bytes (tag, array, protected header up to the kid) of one."""
    cases = []
    for set_name, name in BYTE_TARGETS:
        v, bundle = _pick(set_name, name)
        prefix, cose = _split(v["qr_text"])
        at = _at(v["at"])
        full = (set_name, name) in BYTE_TARGETS[:2]
        for i in range(len(cose)):
            if full:  # every single-bit flip and a random value
                values = {cose[i] ^ (1 << b) for b in range(8)}
                values.add(rng.randrange(256))
            else:  # two random single-bit flips and one random value
                values = {cose[i] ^ (1 << rng.randrange(8)) for _ in range(2)}
                values.add(rng.randrange(256))
            if set_name == "v2" and name == "valid-typical" and i < 10:
                values = set(range(256))  # every value of the COSE structure's first bytes
            values.discard(cose[i])
            for x in sorted(values):
                m = bytearray(cose)
                m[i] = x
                cases.append(Case(f"byte/{set_name}/{name}/{i}={x:02x}", "bytes", _qr(prefix, bytes(m)), bundle, at))
        # truncations and extensions of the COSE bytes
        for n in range(len(cose)):
            cases.append(
                Case(
                    f"truncate-bytes/{set_name}/{name}/{n}",
                    "truncations",
                    _qr(prefix, cose[:n]) if n else prefix,
                    bundle,
                    at,
                )
            )
        for extra in (b"\x00", b"\xff", b"\xa0", b"\x40", cose):
            cases.append(
                Case(
                    f"extend-bytes/{set_name}/{name}/{extra[:2].hex()}",
                    "truncations",
                    _qr(prefix, cose + extra),
                    bundle,
                    at,
                )
            )
    # truncations of the text itself
    for set_name, name in BYTE_TARGETS[:2]:
        v, bundle = _pick(set_name, name)
        for n in range(len(v["qr_text"])):
            cases.append(
                Case(f"truncate-text/{set_name}/{name}/{n}", "truncations", v["qr_text"][:n], bundle, _at(v["at"]))
            )
    return cases


WS = [*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
NOT_WS = [0x00, 0x1C, 0x1D, 0x1E, 0x1F, 0x180E, 0x200B, 0x200C, 0x2060, 0xFEFF, 0xFF0F, 0x7F]


def text_cases(rng: random.Random) -> list[Case]:
    cases = []
    for set_name, name in BYTE_TARGETS[:3]:
        v, bundle = _pick(set_name, name)
        at = _at(v["at"])
        text = v["qr_text"]
        prefix, _cose = _split(text)
        payload = text[len(prefix) :]
        host = prefix[len("HTTPS://") : -len("/V/")]

        def add(label: str, t: str, set_name=set_name, name=name, bundle=bundle, at=at) -> None:
            cases.append(Case(f"text/{set_name}/{name}/{label}", "text", t, bundle, at))

        for cp in WS + NOT_WS:
            add(f"before-U+{cp:04X}", chr(cp) + text)
            add(f"after-U+{cp:04X}", text + chr(cp))
            add(f"inside-payload-U+{cp:04X}", prefix + payload[:40] + chr(cp) + payload[40:])
            add(f"after-V-U+{cp:04X}", prefix + chr(cp) + payload)
            add(f"in-host-U+{cp:04X}", f"HTTPS://{host[:4]}{chr(cp)}{host[4:]}/V/{payload}")
        add("crlf-around", "\r\n" + text + "\r\n")
        add("many-ws", "\u3000\u2029 \t" + text + "\u205f\u00a0\n")
        add("lower", text.lower())
        add("mixed", "".join(c.lower() if rng.random() < 0.5 else c for c in text))
        add("http", text.replace("HTTPS://", "HTTP://", 1))
        add("https-lower-v", f"https://{host.lower()}/v/{payload.lower()}")
        add("ftp", text.replace("HTTPS://", "FTP://", 1))
        add("no-scheme", f"{host}/V/{payload}")
        add("bare", payload)
        add("bare-lower", payload.lower())
        add("bare-ws", " " + payload + "\n")
        add("query", text + "?X=1")
        add("empty-query", text + "?")
        add("fragment", text + "#F")
        add("trailing-slash", text + "/")
        add("double-slash", prefix + "/" + payload)
        add("V-twice", prefix + "V/" + payload)
        add("path-before-V", f"HTTPS://{host}/A/V/{payload}")
        add("empty-host", f"HTTPS:///V/{payload}")
        add("port", f"HTTPS://{host}:8443/V/{payload}")
        add("weird-host", f"HTTPS://h\u00f4st_?#.example/V/{payload}")
        add("long-s", text.replace("HTTPS", "HTTP\u017f", 1))
        add("kelvin", text.replace("K", "\u212a", 1))
        add("fullwidth-V", text.replace("/V/", "/\uff36/", 1))
        add("dotless-i-lower", text.lower().replace("i", "\u0131", 1))
        add("padding-1", text + "=")
        add("padding-full", text + "=" * (-len(payload) % 8))
        add("empty-payload", prefix)
        add("empty", "")
        add("only-ws", " \u3000\n")
        add("digit-0", text[:-3] + "0" + text[-2:])
        add("digit-1", text[:-3] + "1" + text[-2:])
        add("digit-8", text[:-3] + "8" + text[-2:])
        for extra in ("A", "AA", "AAA", "AAAA", "AAAAA", "AAAAAA", "AAAAAAA", "AAAAAAAA"):
            add(f"append-{len(extra)}", text + extra)
        # non-zero unused bits in the last character
        last = payload[-1]
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        for c in alphabet:
            if c != last:
                add(f"last-char-{c}", text[:-1] + c)
        # length limit: counted before White_Space is removed
        add("len-4312", text + " " * (4312 - len(text)))
        add("len-4313", text + " " * (4313 - len(text)))
        add("len-4313-leading", " " * (4313 - len(text)) + text)
        add("len-4312-astral", text + "\u3000" * (4312 - len(text)))
        add("len-4313-ideographic", "\u3000" * (4313 - len(text)) + text)
    return cases


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _flip(s: str, pos: int) -> str:
    raw = bytearray(base64.b64decode(s))
    raw[pos % len(raw)] ^= 0x01
    return _b64(bytes(raw))


def bundle_variants(rng: random.Random) -> list[tuple[str, bytes]]:
    """Bundles changed without any private key: status lists, manifest, tree head, envelope."""
    main = json.loads((VECTORS / "bundle.json").read_text("utf-8"))
    rolled = json.loads((VECTORS / "bundle-rolled-back.json").read_text("utf-8"))
    v1 = json.loads((VECTORS / "v1" / "bundle.json").read_text("utf-8"))
    out: list[tuple[str, bytes]] = []

    def add(label: str, doc, raw: bytes | None = None) -> None:
        out.append((label, raw if raw is not None else json.dumps(doc).encode("utf-8")))

    def with_(base: dict, **kw) -> dict:
        d = dict(base)
        for k, val in kw.items():
            if val is _DROP:
                d.pop(k, None)
            else:
                d[k] = val
        return d

    lists = main["status_lists"]
    n = len(lists)
    detailed = set(rng.sample(range(n), 3))
    for i in range(n):
        add(f"list-{i}-removed", with_(main, status_lists=lists[:i] + lists[i + 1 :]))
        for j in rng.sample([j for j in range(n) if j != i], 2):
            add(f"list-{i}-swapped-for-{j}", with_(main, status_lists=lists[:i] + [lists[j]] + lists[i + 1 :]))
        raw_len = len(base64.b64decode(lists[i]))
        for pos in (rng.randrange(20, raw_len - 70), raw_len - 1):
            add(
                f"list-{i}-byte-{pos}-flipped",
                with_(main, status_lists=lists[:i] + [_flip(lists[i], pos)] + lists[i + 1 :]),
            )
        if i not in detailed:
            continue
        add(f"list-{i}-duplicated", with_(main, status_lists=lists + [lists[i]]))
        add(f"list-{i}-first", with_(main, status_lists=[lists[i]] + lists[:i] + lists[i + 1 :]))
        add(f"list-{i}-byte-12-flipped", with_(main, status_lists=lists[:i] + [_flip(lists[i], 12)] + lists[i + 1 :]))
        for label, val in (
            ("non-base64", "!!!!"),
            ("unpadded", lists[i].rstrip("=")),
            ("newline", lists[i][:40] + "\n" + lists[i][40:]),
            ("empty", ""),
            ("null", None),
            ("number", 7),
            ("truncated", lists[i][:-8]),
        ):
            add(f"list-{i}-{label}", with_(main, status_lists=lists[:i] + [val] + lists[i + 1 :]))
    add("lists-reversed", with_(main, status_lists=lists[::-1]))
    add("lists-empty", with_(main, status_lists=[]))
    add("lists-null", with_(main, status_lists=None))
    add("lists-object", with_(main, status_lists={}))
    add("lists-string", with_(main, status_lists=lists[0]))
    add("lists-missing", with_(main, status_lists=_DROP))
    add("lists-plus-trust-list", with_(main, status_lists=lists + [main["trust_list"]]))
    add("lists-plus-manifest", with_(main, status_lists=lists + [main["manifest"]]))
    add("lists-from-v1-bundle", with_(main, status_lists=v1["status_lists"]))
    add("lists-main-plus-v1", with_(main, status_lists=lists + v1["status_lists"]))
    rolled_lists = rolled["status_lists"]
    add("lists-main-plus-rolled", with_(main, status_lists=lists + rolled_lists))
    add("lists-rolled-plus-main", with_(main, status_lists=rolled_lists + lists))
    # manifest
    man = main["manifest"]
    man_len = len(base64.b64decode(man))
    add("manifest-removed", with_(main, manifest=_DROP))
    add("manifest-null", with_(main, manifest=None))
    for pos in (20, man_len // 2, man_len - 1, rng.randrange(20, man_len - 70)):
        add(f"manifest-byte-{pos}-flipped", with_(main, manifest=_flip(man, pos)))
    add("manifest-non-base64", with_(main, manifest="%%%"))
    add("manifest-number", with_(main, manifest=1))
    add("manifest-empty", with_(main, manifest=""))
    add("manifest-is-a-status-list", with_(main, manifest=lists[0]))
    add("manifest-is-the-trust-list", with_(main, manifest=main["trust_list"]))
    add("rolled-manifest-removed", with_(rolled, manifest=_DROP))
    add("rolled-manifest-null", with_(rolled, manifest=None))
    add("rolled-manifest-flipped", with_(rolled, manifest=_flip(rolled["manifest"], 30)))
    add("rolled-manifest-removed-lists-reversed", with_(rolled, manifest=_DROP, status_lists=rolled_lists[::-1]))
    add("v1-bundle-with-main-manifest", with_(v1, manifest=man))
    # tree head
    add("tree-head-garbage", with_(main, tree_head="AAAA"))
    add("tree-head-status-list", with_(main, tree_head=lists[0]))
    add("tree-head-manifest", with_(main, tree_head=man))
    add("tree-head-number", with_(main, tree_head=3))
    add("tree-head-missing", with_(main, tree_head=_DROP))
    add("rolled-tree-head-garbage", with_(rolled, tree_head="AAAA"))
    # envelope
    add("version-1", with_(main, version=1))
    add("version-1-plain", with_(main, version=1, status_lists=_DROP, tree_head=_DROP, manifest=_DROP))
    add("version-3", with_(main, version=3))
    add("version-0", with_(main, version=0))
    add("version-string", with_(main, version="2"))
    add("version-true", with_(main, version=True))
    add("version-missing", with_(main, version=_DROP))
    add("version-2.0", None, json.dumps(main).replace('"version": 2', '"version": 2.0').encode())
    add("format-wrong", with_(main, format="issuer-trust-bundle-2"))
    add("format-missing", with_(main, format=_DROP))
    add("extra-key", with_(main, extra="x"))
    add("root-flipped", with_(main, root_certificate=_flip(main["root_certificate"], 200)))
    add("root-sig-flipped", with_(main, root_certificate=_flip(main["root_certificate"], -3)))
    add("root-missing", with_(main, root_certificate=_DROP))
    add("root-is-org-certificate", with_(main, root_certificate=_flip(main["root_certificate"], 10)))
    add(
        "root-newline",
        with_(main, root_certificate=main["root_certificate"][:30] + "\n" + main["root_certificate"][30:]),
    )
    add("trust-list-flipped", with_(main, trust_list=_flip(main["trust_list"], 5000)))
    add("trust-list-sig-flipped", with_(main, trust_list=_flip(main["trust_list"], -1)))
    add("trust-list-is-status-list", with_(main, trust_list=lists[0]))
    add("trust-list-from-v1", with_(main, trust_list=v1["trust_list"]))
    add("trust-list-missing", with_(main, trust_list=_DROP))
    add("json-array", [main])
    add("json-bom", None, b"\xef\xbb\xbf" + json.dumps(main).encode())
    add("json-latin1", None, json.dumps(main, ensure_ascii=False).encode() + b" \xe9")
    add("json-trailing", None, json.dumps(main).encode() + b" x")
    add("json-utf16", None, json.dumps(main).encode("utf-16"))
    add("json-utf16-le", None, json.dumps(main).encode("utf-16-le"))
    add("json-utf32", None, json.dumps(main).encode("utf-32"))
    add("json-nan-key", None, json.dumps({**main, "x": float("nan")}).encode())
    add("json-whitespace", None, b"\n " + json.dumps(main, indent=2).encode() + b"\n")
    add("json-duplicate-version", None, json.dumps(main).replace('"version": 2', '"version": 3, "version": 2').encode())
    add("v1-bundle-version-1", with_(v1, version=1))
    add("v1-bundle-version-1-plain", with_(v1, version=1, status_lists=_DROP, tree_head=_DROP))
    return out


class _Drop:
    pass


_DROP = _Drop()


BUNDLE_VECTORS = {
    "valid-typical",
    "revoked",
    "broken-status-list",
    "two-keys-with-one-kid",
    "unknown-key",
    "wrong-signature",
    "valid-expired-organization-old-certificate",
    "compromised-key",
    "suspended-before-issue",
    "out-of-scope-level",
    "future-issue-date",
    "truncated",
    "list-of-a-key-compromised-at-an-unknown-time",
    "list-signed-after-its-certificate-ended",
    "list-with-other-gzip-header-fields",
    "stale-list-still-says-revoked",
    "list-trusted-for-a-week-at-most",
    "older-status-list-slipped-in",
    "status-list-too-old",
    "valid-retired-key-before-rotation",
    "retired-key-at-rotation",
}


def bundle_cases(rng: random.Random) -> list[Case]:
    """Each changed bundle against the vectors whose verdict depends on the bundle's parts
    (status lists of every signer and state) and a few of every other check."""
    cases = []
    main_set = SETS[0][1]
    v1_set = SETS[1][1]
    for label, raw in bundle_variants(rng):
        vectors = (
            v1_set["vectors"]
            if label.startswith("v1-")
            else [v for v in main_set["vectors"] if v["name"] in BUNDLE_VECTORS]
        )
        for v in vectors:
            cases.append(Case(f"bundle/{label}/{v['name']}", "bundles", v["qr_text"], raw, _at(v["at"])))
    return cases


def _event_instants(bundle_raw: bytes) -> set[datetime]:
    try:
        b = ind.load_bundle(bundle_raw)
    except ind.BundleUnusable:
        return set()
    out: set[datetime] = set()
    for c in (b.root,):
        out |= {c.not_before, c.not_after}
    for org in b.orgs:
        out.add(ind.china_midnight(org.registered_from))
        if org.registered_until:
            out.add(ind.china_midnight(org.registered_until + timedelta(days=1)))
        out |= {since for _, since in org.status}
        for e in org.scope:
            out |= {t for t in (e.start, e.end) if t is not None}
        for k in org.keys:
            out |= {t for t in (k.compromised_at, k.retired_at) if t is not None}
            if k.cert is not None:
                out |= {k.cert.not_before, k.cert.not_after}
    for sl in b.status_lists.values():
        out |= {
            sl.issued_at,
            sl.issued_at + timedelta(seconds=min(sl.max_age, ind.WEEK + 1)),
            sl.issued_at + timedelta(days=7),
        }
    return out


def time_cases() -> list[Case]:
    """Every vector at one second before, at, and one second after every lifecycle instant of
    its bundle (events, certificate bounds, status lists' issue, maximum age and 7-day cap) and
    the start of its own China issue date."""
    cases = []
    for set_name, m, bundles in SETS:
        events = set()
        for raw in bundles.values():
            events |= _event_instants(raw)
        for v in m["vectors"]:
            bundle = _bundle_of(m, bundles, v)
            own = set(events)
            try:
                _prefix, cose = _split(v["qr_text"])
                c = ind.decode_claims(ind.parse_sign1(cose).payload)
                own.add(ind.china_midnight(c.issue_date))
                if c.issued_at:
                    own.add(c.issued_at)
            except Exception:
                pass
            for e in sorted(own):
                if not datetime(2020, 1, 1, tzinfo=UTC) <= e <= datetime(2040, 1, 1, tzinfo=UTC):
                    continue
                for d in (-1, 0, 1):
                    at = e + timedelta(seconds=d)
                    cases.append(
                        Case(f"time/{set_name}/{v['name']}/{at:%Y-%m-%dT%H:%M:%SZ}", "times", v["qr_text"], bundle, at)
                    )
    return cases


def signed_cases() -> list[Case]:
    return [Case(*t) for t in signed_corpus.signed_cases()]


def build_corpus() -> list[Case]:
    rng = random.Random(SEED)
    cases = vector_cases() + byte_cases(rng) + text_cases(rng) + bundle_cases(rng) + time_cases() + signed_cases()
    seen: dict[str, Case] = {}
    for c in cases:
        seen.setdefault(c.id, c)
    return list(seen.values())


# --------------------------------------------------------------------------------------------
# Running both verifiers
# --------------------------------------------------------------------------------------------

_REF_STORES: dict[bytes, object] = {}


def reference(case: Case) -> tuple[str, str | None, str | None]:
    h = hashlib.sha256(case.bundle).digest()
    if h not in _REF_STORES:
        try:
            _REF_STORES[h] = trust.load_bundle(case.bundle)
        except Exception as e:
            _REF_STORES[h] = e
    store = _REF_STORES[h]
    if isinstance(store, Exception):
        if type(store).__name__ == "TrustError":
            return ("bundle_unusable", None, None)
        return (f"crash:{type(store).__name__}", None, str(store))
    try:
        v = ref_verify(case.qr_text, store, at=case.at)
    except Exception as e:
        return (f"crash:{type(e).__name__}", None, str(e))
    return (v.status.value, v.failed_check, v.reason)


def independent(case: Case) -> tuple[str, str | None, str | None]:
    v = ind.verify(case.qr_text, case.bundle, case.at)
    return (v["status"], v["failed_check"], v["reason"] if v["status"] != "bundle_unusable" else None)


def agree(mine, ref) -> bool:
    if mine[:2] != ref[:2]:
        return False
    return mine[2] is None or mine[2] == ref[2]


# Disagreements pending a decision: each names the inputs (case-id prefixes), the two verdicts
# and the FORMAT.md sentence at stake, and runs as a strict xfail. None is pending.
KNOWN: dict[str, tuple[str, tuple[str, ...]]] = {}


def _usable(verdict: tuple) -> bool:
    return verdict[0] != "bundle_unusable"


def _unusable(verdict: tuple) -> bool:
    return verdict[0] == "bundle_unusable"


# The nine disagreements of the first comparison (NOTES.md), decided in FORMAT.md and fixed on
# the side it did not support. Each names its inputs and the verdict both verifiers must now
# give them; test_decided_disagreement fails if either side goes back.
DECIDED: dict[str, tuple[str, tuple[str, ...], Callable[[str, tuple], bool]]] = {
    "D1-status-lists-not-an-array": (
        "§7 step 5: a status_lists that is not an array is set aside; the bundle loads without "
        "status lists (check 11 unknown, so never valid).",
        ("bundle/lists-null/", "bundle/lists-object/", "bundle/lists-string/", "bundle/lists-missing/"),
        lambda _id, v: v[0] not in ("bundle_unusable", "valid"),
    ),
    "D2-bundle-version-true": (
        "Conventions, §7 step 1: the bundle's version is the JSON number 1 or 2, never true.",
        ("bundle/version-true/",),
        lambda _id, v: _unusable(v),
    ),
    "D3-bundle-not-utf8": (
        "§7: UTF-8 JSON; one leading BOM is ignored, UTF-16 and UTF-32 make the bundle unusable.",
        ("bundle/json-bom/", "bundle/json-utf16/", "bundle/json-utf16-le/", "bundle/json-utf32/"),
        lambda id_, v: _usable(v) if id_.startswith("bundle/json-bom/") else _unusable(v),
    ),
    "D4-trust-list-logs-not-an-array": (
        "§6: a logs that is not an array names no log (the manifest is then set aside); the list loads.",
        ("tl/env-logs-not-array/", "tl/env-logs-null/", "decided/logs-null/", "decided/logs-text/"),
        lambda _id, v: _usable(v),
    ),
    "D5-trust-list-negative-uint": (
        "Conventions, §6: sequence and catalogue edition are uint (CBOR major type 0); a negative "
        "one is an envelope that cannot be read.",
        (
            "tl/env-sequence-negative/",
            "tl/env-catalogue-edition-negative/",
            "decided/env-sequence-bignum/",
            "decided/catalogue-edition-bignum/",
        ),
        lambda _id, v: _unusable(v),
    ),
    "D6-scope-edition-negative": (
        "Conventions, §6: a scope entry's edition is uint; the organization map does not decode.",
        ("tl/ours-scope-edition-negative/ours",),
        lambda id_, v: v == ("unknown", None, "organization_unreadable") if id_.endswith("/ours") else True,
    ),
    "D7-organization-set-aside-with-some-unreadable-keys": (
        "§6 and §8 check 2: an organization entry set aside with a key whose certificate cannot "
        "be read makes unknown (organization_unreadable) every credential whose kid is that of "
        "no usable key.",
        (
            "tl/Y000123000001-key-certificate-text/valid-retired-key-before-rotation",
            "tl/Y000123000001-key-certificate-text/unknown-key",
            "tl/Y000123000001-key-certificate-text/ours-unknown-kid",
            "tl/ours-key-entry-integer/valid-typical",
            "tl/ours-key-entry-integer/unknown-key",
            "tl/ours-key-entry-integer/ours-unknown-kid",
        ),
        lambda _id, v: v == ("unknown", None, "organization_unreadable"),
    ),
    "D8-status-list-bool-as-uint": (
        "Conventions, §9: a status list's version, max_age and bits are uint; true is not, and "
        "the list is set aside (its organization's status unknown).",
        (
            "sl/payload-version-bool-",
            "sl/payload-max-age-bool-",
            "decided/list-max-age-bignum-",
            "decided/list-version-bignum-",
            "decided/list-bits-bignum-",
        ),
        lambda _id, v: v[0] == "unknown",
    ),
    "D9-manifest-version-true": (
        "Conventions, §7 step 4: the manifest's version is uint 1; a manifest with true is set "
        "aside and binds nothing, so the newer (clear) list is kept.",
        ("sl/decisive-manifest-version-bool/", "decided/manifest-version-bignum/", "decided/manifest-version-float/"),
        lambda _id, v: v == ("valid", None, None),
    ),
}


def _decided(case_id: str) -> str | None:
    for name, (_, prefixes, _expect) in DECIDED.items():
        if any(case_id.startswith(p) for p in prefixes):
            return name
    return None


def _known(case_id: str) -> str | None:
    for name, (_, prefixes) in KNOWN.items():
        if any(case_id.startswith(p) for p in prefixes):
            return name
    return None


CORPUS = build_corpus()
_RESULTS: dict[str, tuple] = {}


@pytest.fixture(scope="module")
def results():
    if not _RESULTS:
        t0 = time.perf_counter()
        for c in CORPUS:
            _RESULTS[c.id] = (independent(c), reference(c))
        elapsed = time.perf_counter() - t0
        by_cat: dict[str, list[int]] = {}
        for c in CORPUS:
            mine, ref = _RESULTS[c.id]
            s = by_cat.setdefault(c.category, [0, 0])
            s[0] += 1
            s[1] += agree(mine, ref)
        total = sum(s[0] for s in by_cat.values())
        agreed = sum(s[1] for s in by_cat.values())
        lines = [f"[independent] compared {total} inputs in {elapsed:.1f} s: {agreed} agree, {total - agreed} disagree"]
        lines += [f"[independent]   {cat}: {n} inputs, {a} agree" for cat, (n, a) in by_cat.items()]
        print("\n" + "\n".join(lines))
    return _RESULTS


def test_vectors_reproduced_by_the_independent_verifier(results):
    for c in CORPUS:
        if c.expected is not None:
            status, failed, reason = c.expected
            mine = results[c.id][0]
            assert mine[:2] == (status, failed), c.id
            assert reason == "-" or mine[2] == reason, c.id


CATEGORIES = [
    "vectors",
    "bytes",
    "truncations",
    "text",
    "bundles",
    "times",
    "signed-claims",
    "signed-certs",
    "signed-lifecycle",
    "signed-trust-lists",
    "signed-status-lists",
]


def test_every_category_is_present():
    present = {c.category for c in CORPUS}
    assert present == set(CATEGORIES) or present == set(CATEGORIES[:6]), present


@pytest.mark.parametrize("category", CATEGORIES)
def test_agreement(results, category):
    """Every input outside the known disagreements gets the same verdict from both."""
    bad = []
    for c in CORPUS:
        if c.category != category or _known(c.id):
            continue
        mine, ref = results[c.id]
        if not agree(mine, ref):
            bad.append(f"{c.id}: independent {mine} reference {ref}")
    assert not bad, f"{len(bad)} disagreements:\n" + "\n".join(bad[:40])


@pytest.mark.parametrize("name", list(DECIDED))
def test_decided_disagreement(results, name):
    """A disagreement of the first comparison, decided: both verifiers agree on every input of
    it and give the verdict FORMAT.md now prescribes."""
    rule, _prefixes, expect = DECIDED[name]
    cases = [c for c in CORPUS if _decided(c.id) == name]
    assert cases, name
    wrong = [c.id for c in cases if not agree(*results[c.id])]
    assert not wrong, (
        f"{len(wrong)} of {len(cases)} inputs disagree, e.g. {wrong[0]}: "
        f"independent {results[wrong[0]][0]} reference {results[wrong[0]][1]}"
    )
    off = [c.id for c in cases if not expect(c.id, results[c.id][1])]
    assert not off, f"{len(off)} of {len(cases)} inputs not as decided ({rule}), e.g. {off[0]}: {results[off[0]][1]}"


if KNOWN:  # defined only while a disagreement awaits its decision

    @pytest.mark.parametrize(
        "name",
        [
            pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=why), id=name)
            for name, (why, _) in KNOWN.items()
        ],
    )
    def test_known_disagreement(results, name):
        """Strict xfail: passes (and so fails the run) as soon as both sides agree on every
        input of the disagreement, i.e. when one of them changes."""
        cases = [c for c in CORPUS if _known(c.id) == name]
        assert cases, name
        wrong = [c.id for c in cases if not agree(*results[c.id])]
        assert not wrong, (
            f"{len(wrong)} of {len(cases)} inputs disagree, e.g. {wrong[0]}: "
            f"independent {results[wrong[0]][0]} reference {results[wrong[0]][1]}"
        )


def test_a_time_without_an_offset_is_refused_by_both():
    """§8: ``at`` is an instant. Neither verifier guesses a zone for a time without an offset
    (UTC and China time differ by 8 hours, enough to make a stale list current)."""
    v, bundle = _pick("v2", "valid-typical")
    naive = _at(v["at"]).replace(tzinfo=None)
    with pytest.raises(ValueError):
        ind.verify(v["qr_text"], bundle, naive)
    with pytest.raises(ValueError):
        ref_verify(v["qr_text"], trust.load_bundle(bundle), at=naive)
