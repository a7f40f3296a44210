// Verify a scanned certificate in this browser, with the trust bundle it has cached and
// WebCrypto Ed25519, by the same checks in the same order as the reference verifier
// (issuer/core/verify.py, policy.py, trust.py): decodable, known_key, signature, claims,
// certificate_chain, key_status, registration, scope, number, issue_date, status.
// The first check that fails decides; a part of the bundle that does not check out (an
// organization entry, a key certificate, two keys with one kid, a status list, or one the
// bundle's manifest does not name) is set aside and makes only its own organization's
// certificates "unknown". A fetched bundle replaces the cached one only if it does not go back
// (docs/FORMAT.md §7). The page works without this script.
//
// Test hook: window.issuerOfflineVerify(payload, bundle, at) resolves to {status,
// failed_check, reason, headline, detail, ...} for a QR text (or bare base32 payload), a trust
// bundle (its parsed JSON, or the bytes of the file as a Uint8Array) and the verification time
// (milliseconds since the epoch, or ISO 8601 text with an offset); it never rejects. The
// browser tests run the published vectors through it, and through its .setAside(bundle) (what
// a bundle sets aside), .goesBack(cached, fetched) (why a fetched bundle is refused, or null)
// and .categoryC() (the Unicode 14.0.0 ranges it holds).
"use strict";

(function () {
  const DAY = 86400000, CST = 8 * 3600000, SECOND = 1000;
  const LIST_MAX_AGE = 7 * 86400;
  const PROVINCES = "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 66".split(" ");
  const zh = () => document.documentElement.lang !== "en";

  class Bad extends Error {
    constructor(en, cn) { super(en); this.zh = cn; }
  }
  class Rule extends Error {
    constructor(check, code, en, cn) { super(en); this.check = check; this.code = code; this.zh = cn; }
  }
  const bad = (en, cn) => new Bad(en, cn);

  // --- bytes, text and time ------------------------------------------------------------------
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  const isMap = (v) => v instanceof Map;
  const isBytes = (v) => v instanceof Uint8Array;
  const isInt = (v) => (typeof v === "number" && Number.isInteger(v)) || typeof v === "bigint";
  function b64(value, key) {
    if (typeof value !== "string") throw bad(`trust bundle: missing ${key}`, `信任包：缺少${key}`);
    if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value)) {
      throw bad(`trust bundle: ${key} is not base64`, `信任包：${key}不是base64编码`);
    }
    return Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
  }
  const chinaDay = (ms) => Math.floor((ms + CST) / DAY);
  const startOfChinaDay = (day) => day * DAY - CST;
  const isoDay = (day) => new Date(day * DAY).toISOString().slice(0, 10);
  const yearOf = (day) => new Date(day * DAY).getUTCFullYear();
  const instantText = (ms) => new Date(ms).toISOString().slice(0, 19) + "Z";
  const chinaClock = (ms) => new Date(ms + CST).toISOString().slice(11, 19);
  function dateZh(day) {
    const d = new Date(day * DAY);
    return `${d.getUTCFullYear()}年${d.getUTCMonth() + 1}月${d.getUTCDate()}日`;
  }
  function utc(y, mo, d, h = 0, mi = 0, s = 0) {  // null unless a real date and time
    const t = new Date(0);
    t.setUTCFullYear(y, mo - 1, d);
    t.setUTCHours(h, mi, s);
    if (y < 1 || t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d ||
      t.getUTCHours() !== h || t.getUTCMinutes() !== mi || t.getUTCSeconds() !== s) return null;
    return t.getTime();
  }
  function parseInstant(text) {  // exactly YYYY-MM-DDTHH:MM:SSZ
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/.exec(text);
    return m ? utc(...m.slice(1).map(Number)) : null;
  }
  function parseDay(text) {  // exactly YYYY-MM-DD, as a day number
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    const ms = m ? utc(...m.slice(1).map(Number)) : null;
    return ms === null ? null : ms / DAY;
  }

  // --- text (core/unicode) ---------------------------------------------------------------------
  // White_Space exactly, the 25 code points of the Unicode property (FORMAT §1): not trim(),
  // which also takes U+FEFF and leaves U+0085, and not \s, which is trim()'s set.
  const WHITE_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" +
    "\u2028\u2029\u202f\u205f\u3000";
  function strip(text) {
    let start = 0, end = text.length;
    while (start < end && WHITE_SPACE.includes(text[start])) start++;
    while (end > start && WHITE_SPACE.includes(text[end - 1])) end--;
    return text.slice(start, end);
  }
  // General category C (Cc, Cf, Cs, Co, Cn) of Unicode 14.0.0, whatever Unicode this browser
  // knows (FORMAT §3): the 701 ranges of issuer/core/data/unicode-14.0-category-c.txt. Each
  // range is two numbers, its distance from the end of the one before and its length - 1, in
  // base 32, most significant digit first: "W" to "_" are digits 0-31 with more to follow,
  // "0" to "V" the last digit.
  const CATEGORY_C = { firsts: [], lasts: [] };
  {
    const DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
    let value = 0, next = 0, first = null;
    for (const c of "0VYVX0D0sA1637010K0iD0X61XI130XN7R36GM0c00XG1XR1Z5DXR1XH1F0S110B4V8YA0b108121M0701241912147132051P1306321M07020202110532132164016H9309030M0702051A030311E41C670308121M0702051912136332051I9206230422010222232C3523041151DL4D030N0G190304620311141A6M030N0A051903046252041A02CD030XJ03063G1Q030I2O090117213601085A13BXQ3TX4201050O010N1501061A14VY80X43X70X40F0DX4c601411hP041701041X9041X1041701041F0XP041Y31X02Q5YM161qT2YP6M8O8KBD0302BYU1A5A5E0B5YP6XB4Y69V0C3C312XA15AXC3Q5B2XU1Y10T1B5A5E1VXGYD2XF0ZK7XS2F2XS6XB1B7XB4mM161X616180101010V1XL0F0E160J13090B4Q4XHF21R0D2X1EX1EaC3qNOBKXuK1X00gT4XD01411XO62DO87070707070707070ZUX1Q0YPBcMPC3Y00YM1Z74XB0YU0YKBXF0ypD2XN8gSJbO7cB420105NXR2A5XO7Y67C5ZKAU2YE0B3X10XN8E1A1Z7NS96161687070XS3ZU1A5gz4BN3XHee3hE1ZAX57B54Q050102020ZTFjT1XM61VXA5XJ0J04350a73bU261616132707C21C0Q0J020F1EX1ZR433XD2YO0D21XEXEa1T2XHES3X48U4XB4U0X53EX9aU1A5X43X43X87XKAC0F07020B0F0702Y2fN8M98N60XA09Y46110XC02211N0Y879XFJ024X12R41XVXO3K1XI0248030T133A696Y0VX73C8XM2T1R4Q64B7YFY9XMXJCXJ6XE7Af5V0XA0312YDX87XALQX5SJN8YE3X48XU05CP6A5XL0I7X78Z00KAI0XCY0701040F0B5XR4A5408121M0702050A12131151471725aAYS05TY87Ab5XM1X6X1Y5AA5DIXQ5AXLR1F3NbOXSZ3YJB81118020U021C8AY581XE1BQY87YJCY9e690XD0E9T2X01M0EY87020XC2102097A56020X502066AfLPbM1EXICyRZ5ZF05Ac4YoBZ3CXXFZ-Go7ejOnP6V0A3YH0A5U169Y69A070L4JrFYRZ4YB3XP6HXV5A2Db_O7XcMX99et6407020f3XC3G47iCYe3ZB4D296A14aoVXE1N8ZKXRdM9X71YA7ZGKY6aPKBYN8Pa6YL0Y7021112140C01070Y10418070S040501270gK1f41rUE50FXYFVd070H170205cKXD2E1A32fVVGXQ41XcV704020F0c51GX8YC3A32uGY4YBXTc140R0201110A040101513101010302011101010101020114070404010A0H43050HXJ2eDXC3Z4BF1F0F0X59bEXNTCXC3962D6aP-O4G2D2ZKBYP6C31EC3XO7A5X87U12YDgKBE1525278T2B469A58778aJ0XNX4AXW5Xft0VaXP6cU1bq2DdfHZWUmUXl1awBrxjKdGb_mF") {
      const d = DIGITS.indexOf(c);
      value = value * 32 + (d & 31);
      if (d >= 32) continue;
      if (first === null) first = next + value;
      else { CATEGORY_C.firsts.push(first); CATEGORY_C.lasts.push(first + value); next = first + value + 1; first = null; }
      value = 0;
    }
  }
  function isCategoryC(codePoint) {
    const { firsts, lasts } = CATEGORY_C;
    let low = 0, high = firsts.length;  // the first range that starts after codePoint
    while (low < high) { const mid = (low + high) >> 1; if (firsts[mid] <= codePoint) low = mid + 1; else high = mid; }
    return low > 0 && codePoint <= lasts[low - 1];
  }

  // --- the QR text (qrtext.decode) -----------------------------------------------------------
  const QR_URL = new RegExp(`^HTTPS?://[^/${WHITE_SPACE}]+/V/([^/?#${WHITE_SPACE}]*)$`);
  function qrBytes(text) {  // at most 4312 code points (len() in Python)
    if (typeof text !== "string" || (text.length > 4312 && (text.length > 8624 || [...text].length > 4312))) {
      throw bad("text is too long for a QR code", "文本超出二维码容量");
    }
    const value = strip(text).replace(/[a-z]/g, (c) => c.toUpperCase());
    const m = QR_URL.exec(value);
    const payload = m ? m[1] : value;
    if (!payload) throw bad("no payload", "缺少载荷");
    if (!/^[A-Z2-7]+$/.test(payload) || [1, 3, 6].includes(payload.length % 8)) {
      throw bad("payload is not base32", "载荷不是base32编码");
    }
    const out = new Uint8Array(Math.floor(payload.length * 5 / 8));
    let bits = 0, value32 = 0, n = 0;
    for (const c of payload) {
      value32 = ((value32 << 5) | "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".indexOf(c)) & 0xffff;
      bits += 5;
      if (bits >= 8) { bits -= 8; out[n++] = (value32 >> bits) & 0xff; }
    }
    if (value32 & ((1 << bits) - 1)) throw bad("payload has non-zero padding bits", "载荷末位填充位不为零");
    return out;
  }

  // --- deterministic CBOR (core/cbor.decode_strict) -------------------------------------------
  // Shortest heads, definite lengths, map keys in canonical order (no duplicates), strict
  // UTF-8, no trailing bytes: one value has one encoding. Only integers, byte and text strings,
  // arrays, maps, false, true and null: no float, no other simple value, and no tag but `tag`
  // (COSE_Sign1's 18) around the whole item. A level is any data item, the outermost being 1.
  class Tag { constructor(tag, value) { this.tag = tag; this.value = value; } }
  const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const toNumber = (big) => (big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big);
  function cbor(bytes, tag) {
    const malformed = () => bad("not deterministic CBOR of the expected shape", "不是规定格式的确定性CBOR编码");
    let at = 0, depth = 0;
    const need = (n) => { if (n > bytes.length - at) throw malformed(); };
    function argument(info) {
      if (info < 24) return BigInt(info);
      if (info > 27) throw malformed();
      const n = 1 << (info - 24);
      need(n);
      let v = 0n;
      for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(bytes[at++]);
      if (v < (n === 1 ? 24n : 1n << BigInt(4 * n))) throw malformed();  // not the shortest head
      return v;
    }
    function item() {
      if (++depth > 16) throw malformed();
      need(1);
      const head = bytes[at++], major = head >> 5, info = head & 31;
      let value;
      if (major === 7) {
        if (info === 20 || info === 21) value = info === 21;
        else if (info === 22) value = null;
        else throw malformed();
      } else {
        const n = argument(info);
        if (major === 0) value = toNumber(n);
        else if (major === 1) value = toNumber(-1n - n);
        else if (major === 6) {
          if (depth !== 1 || n !== BigInt(tag === undefined ? -1 : tag)) throw malformed();
          value = new Tag(tag, item());
        }
        else {
          if (n > BigInt(bytes.length - at)) throw malformed();
          const size = Number(n);
          if (major === 2) { value = bytes.slice(at, at + size); at += size; }
          else if (major === 3) {
            try { value = utf8.decode(bytes.subarray(at, at + size)); } catch (e) { throw malformed(); }
            at += size;
          } else if (major === 4) { value = []; for (let i = 0; i < size; i++) value.push(item()); }
          else {
            value = new Map();
            let last = null;
            for (let i = 0; i < size; i++) {
              const start = at, key = item(), encoded = bytes.subarray(start, at);
              if (last && !(encoded.length > last.length || (encoded.length === last.length && later(encoded, last)))) {
                throw malformed();
              }
              last = encoded;
              value.set(key, item());
            }
          }
        }
      }
      depth--;
      return value;
    }
    const later = (a, b) => { for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] > b[i]; return false; };
    const value = item();
    if (at !== bytes.length) throw malformed();
    return value;
  }

  // --- COSE_Sign1 (core/cose) -----------------------------------------------------------------
  // The signature suites (core/suites). This page checks Ed25519 signatures only: a message
  // of the 国密 profile's SM2 (its kid 4 bytes) names no key of an Ed25519 trust list, and is
  // never taken as verified here; the service checks it.
  const SUITES = new Map([[-8, { name: "ed25519", kidBytes: 8 }], [-65537, { name: "sm2-sm3", kidBytes: 4 }]]);
  function sign1(bytes) {
    const no = (en, cn) => bad(`not a COSE_Sign1 message: ${en}`, `不是COSE_Sign1签名消息：${cn}`);
    const message = cbor(bytes, 18);
    if (!(message instanceof Tag) || message.tag !== 18) throw no("missing tag 18", "缺少标签18");
    const parts = message.value;
    if (!Array.isArray(parts) || parts.length !== 4) throw no("not an array of four", "不是四元素数组");
    const [protectedHeader, unprotected, payload, signature] = parts;
    if (!isBytes(protectedHeader) || !isBytes(payload)) {
      throw no("protected header or payload is not a byte string", "受保护头或载荷不是字节串");
    }
    if (!isMap(unprotected) || unprotected.size) throw no("unprotected header must be empty", "非保护头必须为空");
    if (!isBytes(signature) || signature.length !== 64) throw no("signature is not 64 bytes", "签名不是64字节");
    const header = cbor(protectedHeader);
    if (!isMap(header) || header.size !== 2 || !header.has(1) || !header.has(4)) {
      throw no("protected header must hold alg and kid only", "受保护头只能含算法和密钥标识");
    }
    const alg = header.get(1), suite = SUITES.get(alg);
    if (typeof alg !== "number" || !suite) {
      throw no("algorithm is neither EdDSA (-8) nor SM2 (-65537)", "算法既不是EdDSA（-8）也不是SM2（-65537）");
    }
    const kid = header.get(4);
    if (!isBytes(kid) || kid.length !== suite.kidBytes) {
      throw no(`kid is not ${suite.kidBytes} bytes (${suite.name})`, `密钥标识不是${suite.kidBytes}字节（${suite.name}）`);
    }
    return { protectedHeader, kid, payload, signature, alg };
  }
  function cborHead(major, n) {
    const out = [major << 5];
    if (n < 24) { out[0] |= n; return out; }
    const size = n < 256 ? 1 : n < 65536 ? 2 : 4;
    out[0] |= 23 + Math.log2(size) + 1;
    for (let i = size - 1; i >= 0; i--) out.push((n / 2 ** (8 * i)) & 0xff);
    return out;
  }
  function toBeSigned(protectedHeader, payload) {  // ["Signature1", protected, h'', payload]
    const text = new TextEncoder().encode("Signature1");
    const parts = [[0x84], cborHead(3, text.length), text, cborHead(2, protectedHeader.length), protectedHeader,
      [0x40], cborHead(2, payload.length), payload];
    const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }
  const importKey = (raw) => crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
  async function ed25519(key, signature, data) {
    try { return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, data); } catch (e) { return false; }
  }
  const verified = (message, key) =>
    message.alg === -8 && ed25519(key, message.signature, toBeSigned(message.protectedHeader, message.payload));
  const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const kidOf = async (der) => (await sha256(der)).slice(0, 8);

  // --- X.509, minimally (core/pki) ------------------------------------------------------------
  const OID_ED25519 = [0x2b, 0x65, 0x70], OID_ORG_ID = [0x55, 0x04, 0x61];
  // An SM2 key (id-ecPublicKey on the curve 1.2.156.10197.1.301): the 国密 profile, which this
  // page cannot check (WebCrypto has no SM2); the service's verdict is the one to rely on.
  const OID_EC_PUBLIC_KEY = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01], OID_SM2_CURVE = [0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d];
  const OID_BASIC = [0x55, 0x1d, 0x13], OID_USAGE = [0x55, 0x1d, 0x0f], OID_AKI = [0x55, 0x1d, 0x23], OID_SKI = [0x55, 0x1d, 0x0e];
  // What the reference's certificate library parses on loading must be DER of the right shape
  // ("not valid DER"); what it parses only when asked (the names' strings, the extensions' values,
  // the public key) sets `malformed` instead ("organization certificate is malformed").
  function certificate(bytes) {
    try { return parseCertificate(bytes); } catch (error) {
      throw error instanceof Bad ? error : bad("a certificate is not valid DER", "证书不是有效的DER编码");
    }
  }
  function parseCertificate(bytes) {
    const invalid = () => bad("a certificate is not valid DER", "证书不是有效的DER编码");
    function tlv(at, end) {
      if (at + 2 > end || (bytes[at] & 0x1f) === 0x1f) throw invalid();
      let length = bytes[at + 1], body = at + 2;
      if (length & 0x80) {
        const n = length & 0x7f;
        if (n < 1 || n > 3 || body + n > end || bytes[body] === 0) throw invalid();
        length = 0;
        for (let i = 0; i < n; i++) length = length * 256 + bytes[body++];
        if (length < 128) throw invalid();
      }
      if (body + length > end) throw invalid();
      return { tag: bytes[at], start: at, body, end: body + length };
    }
    function inside(node, tag) {
      if (tag !== undefined && node.tag !== tag) throw invalid();
      const out = [];
      for (let at = node.body; at < node.end;) { const child = tlv(at, node.end); out.push(child); at = child.end; }
      return out;
    }
    const content = (node) => bytes.subarray(node.body, node.end);
    const isOid = (node, oid) => node.tag === 0x06 && equal(content(node), oid);
    function time(node) {
      const text = String.fromCharCode(...content(node));
      const m = node.tag === 0x17 ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text)
        : node.tag === 0x18 ? /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text) : null;
      if (!m) throw invalid();
      const f = m.slice(1).map(Number);
      if (node.tag === 0x17) f[0] += f[0] < 50 ? 2000 : 1900;
      const ms = utc(...f);
      if (ms === null) throw invalid();
      return ms;
    }
    function bitString(node) {  // its bytes, or null: unused bits 0-7 (0 when empty), and zero
      const data = content(node), unused = data[0];
      const ok = node.tag === 0x03 && data.length > 0 && unused < 8 && (data.length > 1 || !unused) &&
        !(data[data.length - 1] & ((1 << unused) - 1));
      return ok ? data.subarray(1) : null;
    }
    function unsigned(node, most) {  // a DER INTEGER >= 0 of at most `most` bytes, or throws
      const data = content(node), n = data.length - (data[0] === 0 ? 1 : 0);
      if (!data.length || data[0] & 0x80 || (data[0] === 0 && data.length > 1 && !(data[1] & 0x80)) || n > most) throw invalid();
    }
    function single(node) {  // the one TLV an OCTET STRING holds
      const inner = tlv(node.body, node.end);
      if (inner.end !== node.end) throw invalid();
      return inner;
    }
    const top = tlv(0, bytes.length);
    if (top.end !== bytes.length) throw invalid();
    const [tbs, algorithm, signature, ...extra] = inside(top, 0x30);
    const signatureBits = signature && bitString(signature);
    if (!signatureBits || extra.length) throw invalid();
    const fields = inside(tbs, 0x30);
    let i = fields[0] && fields[0].tag === 0xa0 ? 1 : 0;
    const [serial, , issuer, validity, subject, spki] = fields.slice(i, i + 6);
    if (!spki || serial.tag !== 0x02 || issuer.tag !== 0x30 || subject.tag !== 0x30) throw invalid();
    const [notBefore, notAfter] = inside(validity, 0x30);
    const cert = {
      tbs: bytes.slice(tbs.start, tbs.end),
      issuer: bytes.slice(issuer.start, issuer.end),
      subject: bytes.slice(subject.start, subject.end),
      notBefore: time(notBefore),
      notAfter: time(notAfter),
      signedWithEd25519: isOid(inside(algorithm, 0x30)[0], OID_ED25519),
      signature: signatureBits.slice(),  // its bytes, whatever its unused bits say (as cryptography reads it)
      key: null,
      orgCodes: [],
      ca: null,
      digitalSignature: null,
      malformed: false,
    };
    const [keyAlgorithm, keyBits] = inside(spki, 0x30);
    const key = keyBits && bitString(keyBits);
    if (!key) throw invalid();
    const [keyOid, keyParameters] = inside(keyAlgorithm, 0x30);
    if (isOid(keyOid, OID_ED25519)) {
      if (key.length === 32 && !bytes[keyBits.body]) cert.key = key.slice(); else cert.malformed = true;
    }
    cert.sm2 = isOid(keyOid, OID_EC_PUBLIC_KEY) && keyParameters !== undefined && isOid(keyParameters, OID_SM2_CURVE);
    for (const [name, codes] of [[subject, cert.orgCodes], [issuer, []]]) {
      for (const rdn of inside(name, 0x30)) {
        for (const attribute of inside(rdn, 0x31)) {
          const [type, value, more] = inside(attribute, 0x30);
          if (!value || more || type.tag !== 0x06) throw invalid();
          const data = content(value);
          let text = null;
          if (value.tag === 0x13) {  // PrintableString, BMPString and UniversalString: checked on loading
            text = String.fromCharCode(...data);
            if (!/^[A-Za-z0-9 '()+,./:=?-]*$/.test(text)) throw invalid();
          } else if (value.tag === 0x1e || value.tag === 0x1c) {
            const size = value.tag === 0x1e ? 2 : 4, units = [];
            if (data.length % size) throw invalid();
            for (let at = 0; at < data.length; at += size) units.push(data.subarray(at, at + size).reduce((v, b) => v * 256 + b, 0));
            text = size === 2 ? String.fromCharCode(...units) : "";
            if (size === 4) for (const u of units) { if (u > 0x10ffff) throw invalid(); text += String.fromCodePoint(u); }
            if (!text.isWellFormed()) throw invalid();
          } else if ([0x04, 0x0c, 0x12, 0x14, 0x16, 0x17, 0x18, 0x1a].includes(value.tag)) {  // read as UTF-8 when asked
            try { text = utf8.decode(data); } catch (e) { cert.malformed = true; }
          } else cert.malformed = true;
          if (isOid(type, OID_ORG_ID)) codes.push(text);
        }
      }
    }
    for (const field of fields.slice(i + 6)) {
      if (field.tag !== 0xa3) continue;
      for (const extension of inside(inside(field)[0], 0x30)) {
        const parts = inside(extension, 0x30), value = parts[parts.length - 1];
        if (parts.length < 2 || parts.length > 3 || parts[0].tag !== 0x06 || value.tag !== 0x04 ||
          (parts.length === 3 && !(parts[1].tag === 0x01 && parts[1].end - parts[1].body === 1 && bytes[parts[1].body] === 0xff))) {
          throw invalid();  // critical is TRUE when written (DEFAULT FALSE)
        }
        try {
          if (isOid(parts[0], OID_BASIC)) {  // {cA BOOLEAN DEFAULT FALSE, pathLen INTEGER OPTIONAL}, pathLen only for a CA
            const [first, second, third] = inside(single(value), 0x30);
            const ca = !!first && first.tag === 0x01;
            if (ca && !(first.end - first.body === 1 && bytes[first.body] === 0xff)) throw invalid();
            const length = ca ? second : first;
            if (third || (ca && second && second.tag !== 0x02) || (length && (!ca || length.tag !== 0x02))) throw invalid();
            if (length) unsigned(length, 8);
            cert.ca = ca;
          } else if (isOid(parts[0], OID_USAGE)) {  // bits 0 digitalSignature, 4 keyAgreement, 7-8 encipher/decipherOnly
            const usage = bitString(single(value));
            if (!usage || ((usage[0] & 1 || usage[1] & 0x80) && !(usage[0] & 8))) throw invalid();
            cert.digitalSignature = (usage[0] & 0x80) !== 0;
          } else if (isOid(parts[0], OID_AKI)) {  // {[0] keyIdentifier, [1] issuer, [2] serial}: issuer and serial together
            const tags = inside(single(value), 0x30).map((node) => {
              if (node.tag === 0x82) unsigned(node, Infinity); else if (node.tag === 0xa1) inside(node);
              return node.tag;
            });
            const order = tags.join();
            if (!["", "128", "161,130", "128,161,130"].includes(order)) throw invalid();
          } else if (isOid(parts[0], OID_SKI)) {
            if (single(value).tag !== 0x04) throw invalid();
          }
        } catch (error) { cert.malformed = true; }
      }
    }
    return cert;
  }
  const isSigningCertificate = (cert) => cert.ca === false && cert.digitalSignature === true;

  // --- the trust list (core/trust) ------------------------------------------------------------
  function get(obj, key, kind, optional) {
    if (!isMap(obj)) throw bad("trust list: expected a map", "信任列表：应为映射");
    if (!obj.has(key)) throw bad(`trust list: missing ${key}`, `信任列表：缺少${key}`);
    const value = obj.get(key);
    if (value === null && optional) return null;
    const ok = {
      str: typeof value === "string", int: isInt(value), bytes: isBytes(value), list: Array.isArray(value), map: isMap(value),
    }[kind];
    if (!ok) throw bad(`trust list: ${key} has the wrong type`, `信任列表：${key}类型错误`);
    return value;
  }
  function uint(obj, key) {  // CBOR major type 0: never negative (nor a bool, a float or a tag)
    const value = get(obj, key, "int");
    if (value < 0) throw bad(`trust list: ${key} is not an unsigned integer`, `信任列表：${key}不是无符号整数`);
    return value;
  }
  function day(obj, key, optional) {
    const text = get(obj, key, "str", optional);
    if (text === null) return null;
    const value = parseDay(text);
    if (value === null) throw bad(`trust list: ${key} is not a date`, `信任列表：${key}不是日期`);
    return value;
  }
  function instant(obj, key, optional) {
    const text = get(obj, key, "str", optional);
    if (text === null) return null;
    const value = parseInstant(text);
    if (value === null) throw bad(`trust list: ${key} is not a time`, `信任列表：${key}不是时间`);
    return value;
  }
  // Version 2 writes instants; version 1 wrote dates: the instant that starts the day, or for
  // an inclusive end date the instant that follows it.
  function moment(version, obj, key, optional, inclusiveEnd) {
    if (version >= 2) return instant(obj, key, optional);
    const value = day(obj, key, optional);
    return value === null ? null : startOfChinaDay(value + (inclusiveEnd ? 1 : 0));
  }
  function choice(value, allowed, what, whatZh) {
    if (!allowed.includes(value)) throw bad(`trust list: unknown ${what} '${value}'`, `信任列表：未知的${whatZh}“${value}”`);
    return value;
  }
  function organizationEntry(obj, version) {
    const scope = get(obj, "scope", "list").map((s) => {
      const levels = get(s, "levels", "list");
      if (!levels.every((lv) => [1, 2, 3, 4, 5].includes(lv))) throw bad("trust list: scope level out of range", "信任列表：业务范围等级超出范围");
      const workTypes = get(s, "work_types", "list");
      if (!workTypes.every((w) => typeof w === "string")) throw bad("trust list: work types must be text", "信任列表：工种应为文本");
      return {
        occupation: get(s, "occupation", "str"), levels, workTypes, edition: uint(s, "edition"),
        from: moment(version, s, "from", true), until: moment(version, s, "until", true, true),
      };
    });
    const keys = get(obj, "keys", "list").map((k) => ({
      certificate: get(k, "certificate", "bytes"),
      status: choice(get(k, "status", "str"), ["active", "retired", "compromised"], "key status", "key status"),
      compromisedAt: instant(k, "compromised_at", true),
      retiredAt: instant(k, "retired_at", true),
    }));
    const history = get(obj, "status", "list").map((c) => ({
      status: choice(get(c, "status", "str"), ["active", "suspended", "cancelled"], "status", "status"),
      since: moment(version, c, "since"),
    }));
    history.sort((a, b) => a.since - b.since);  // stable: of two at the same instant, the later counts
    return {
      code: get(obj, "code", "str"), name: get(obj, "name", "str"),
      registeredFrom: day(obj, "registered_from"), registeredUntil: day(obj, "registered_until", true),
      history, scope, keys,
    };
  }
  function readTrustList(obj) {
    const version = uint(obj, "version");
    if (version !== 1 && version !== 2) throw bad("unsupported trust list version", "不支持的信任列表版本");
    const catalogue = get(obj, "catalogue", "map");
    const occupations = get(catalogue, "occupations", "map");
    for (const [k, v] of occupations) {
      if (typeof k !== "string" || typeof v !== "string") throw bad("trust list: catalogue must map codes to names", "信任列表：职业目录格式错误");
    }
    const organizations = [], problems = [];
    for (const entry of get(obj, "organizations", "list")) {
      try {
        organizations.push(organizationEntry(entry, version));
      } catch (error) {
        if (!(error instanceof Bad)) throw error;
        // its kids, and whether that is every key it holds: if not, any kid may be one of them
        const code = isMap(entry) && typeof entry.get("code") === "string" ? entry.get("code") : null;
        const keys = isMap(entry) && Array.isArray(entry.get("keys")) ? entry.get("keys") : null;
        const certificates = (keys || []).filter((k) => isMap(k) && isBytes(k.get("certificate"))).map((k) => k.get("certificate"));
        problems.push({
          part: "organization", organization: code, certificates, complete: !!keys && certificates.length === keys.length,
          en: `the trust list's entry for organization${code ? " " + code : ""} cannot be read (${error.message})`,
          zh: `信任列表中机构${code || ""}的条目无法读取（${error.zh}）`,
        });
      }
    }
    const logs = [];  // raw public keys; an entry that cannot be read, or logs not an array, is set aside
    let named = obj.has("logs") ? obj.get("logs") : [];
    if (!Array.isArray(named)) {
      problems.push({ part: "log", kids: [], en: "trust list: logs is not an array", zh: "信任列表：logs不是数组" });
      named = [];
    }
    for (const log of named) {
      try {
        get(log, "name", "str");
        const key = get(log, "public_key", "bytes");
        if (key.length !== 32) throw bad("trust list: a log key is not 32 bytes", "信任列表：日志公钥不是32字节");
        logs.push(key);
      } catch (error) {
        if (!(error instanceof Bad)) throw error;
        problems.push({ part: "log", kids: [], en: error.message, zh: error.zh });
      }
    }
    get(obj, "authority", "str");
    const issuedAt = instant(obj, "issued_at"), sequence = uint(obj, "sequence");
    uint(catalogue, "edition");
    return { version, issuedAt, sequence, organizations, problems, logs };
  }

  // --- status lists (core/statuslist) ---------------------------------------------------------
  // One gzip member (any header: FNAME, FEXTRA, MTIME, ...) inflated to at most `limit` bytes
  // into `out`: "ok", "over" (more came out), "truncated" (the member does not end: only the
  // stream's close fails) or "error" (its write fails: data zlib cannot read, or more data after
  // the member).
  async function attempt(data, limit, out) {
    const stream = new DecompressionStream("gzip"), writer = stream.writable.getWriter();
    const reader = stream.readable.getReader(), wrote = writer.write(data).then(() => true, () => false);
    writer.close().catch(() => {});
    let size = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return { outcome: "ok", size };
        if (size + value.length > limit) { reader.cancel().catch(() => {}); return { outcome: "over", size }; }
        if (out) out.set(value, size);
        size += value.length;
      }
    } catch (e) {
      return { outcome: (await wrote) ? "truncated" : "error", size };
    }
  }
  // As zlib does for the reference (statuslist._inflate): "not gzip data" only for data it cannot
  // read before the member ends or N/8 + 1 bytes came out; a member cut short, or followed by
  // more data, does "not have the stated length". DecompressionStream refuses data after the
  // member as it refuses damaged data; so the longest readable prefix is looked for: data after
  // a whole member (or after more than N/8 bytes) are of the wrong length.
  async function inflate(data, expected) {
    const wrongLength = bad("status list: the list does not have the stated length", "状态列表：列表长度与位数不符");
    const out = new Uint8Array(expected), whole = await attempt(data, expected, out);
    if (whole.outcome === "ok" && whole.size === expected) return out;
    if (whole.outcome !== "error") throw wrongLength;
    let low = 0, high = data.length, lowOutcome = "truncated";  // data[:low] can be read, data[:high] cannot
    while (high - low > 1) {
      const mid = Math.floor((low + high) / 2), probe = (await attempt(data.subarray(0, mid), expected)).outcome;
      if (probe === "error") high = mid; else [low, lowOutcome] = [mid, probe];
    }
    if (lowOutcome !== "truncated") throw wrongLength;
    throw bad("status list: the list is not gzip data", "状态列表：列表不是gzip压缩数据");
  }
  async function openStatusList(message, key) {
    const no = (en, cn) => bad(`status list: ${en}`, `状态列表：${cn}`);
    if (!(await verified(message, key))) throw no("the signature does not match", "签名不匹配");
    let obj;
    try { obj = cbor(message.payload); } catch (e) { throw no("the payload is not deterministic CBOR", "内容不是确定性CBOR编码"); }
    const fields = ["version", "organization", "issued_at", "max_age", "bits", "list"];
    if (!isMap(obj) || obj.size !== 6 || !fields.every((f) => obj.has(f)) || obj.get("version") !== 1) {
      throw no("unknown fields or version", "字段或版本不符");
    }
    const size = obj.get("bits"), maxAge = obj.get("max_age"), organization = obj.get("organization");
    if (!isInt(size) || size <= 0 || size > 1 << 24 || size % 8) throw no("bits must be a positive multiple of 8", "位数应为8的正整数倍");
    if (!isInt(maxAge) || maxAge <= 0 || typeof organization !== "string" || !isBytes(obj.get("list"))) {
      throw no("malformed fields", "字段格式错误");
    }
    const issuedAt = typeof obj.get("issued_at") === "string" ? parseInstant(obj.get("issued_at")) : null;
    if (issuedAt === null) throw no("issued_at is not a time", "签发时间格式错误");
    const bits = await inflate(obj.get("list"), size / 8);
    return { organization, issuedAt, maxAge: Number(maxAge < LIST_MAX_AGE ? maxAge : LIST_MAX_AGE), bits, size };
  }
  const expiresAt = (list) => list.issuedAt + list.maxAge * SECOND;
  const isRevoked = (list, index) => (list.bits[index >> 3] & (0x80 >> (index & 7))) !== 0;

  // --- the trust store (TrustStore, load_bundle) -----------------------------------------------
  // The downloaded file (trust.read_bundle_json): UTF-8 (so never UTF-16 or UTF-32), one leading
  // byte order mark ignored (the decoder drops it), and JSON, which has no NaN or Infinity.
  const bundleText = new TextDecoder("utf-8", { fatal: true });
  function readBundle(bytes) {
    try {
      const text = bundleText.decode(bytes);
      return { text, bundle: JSON.parse(text) };
    } catch (e) { throw bad("the trust bundle is not UTF-8 JSON", "信任包不是UTF-8编码的JSON"); }
  }
  async function chainsToRoot(store, signer) {  // verify_directly_issued_by, once per key
    if (signer.chains === undefined) {
      const cert = signer.cert;
      signer.chains = equal(cert.issuer, store.root.subject) && cert.signedWithEd25519 &&
        (await ed25519(store.rootKey, cert.signature, cert.tbs));
    }
    return signer.chains;
  }
  async function keySignsListsAt(store, signer, at) {
    const { entry, cert } = signer;
    return (await chainsToRoot(store, signer)) && isSigningCertificate(cert) && cert.notBefore <= at && at <= cert.notAfter &&
      (entry.status !== "compromised" || (entry.compromisedAt !== null && at < entry.compromisedAt)) &&
      (entry.retiredAt === null || at < entry.retiredAt);
  }
  async function addStatusList(store, signed) {
    let message;
    try { message = sign1(signed); } catch (e) { throw bad("status list: not a signed message", "状态列表：不是签名消息"); }
    let found;
    if (equal(message.kid, store.rootKid)) {
      found = await openStatusList(message, store.rootKey);
      const known = store.organizations.has(found.organization) ||
        store.problems.some((p) => p.part === "organization" && p.organization === found.organization);
      if (!known || found.issuedAt < store.root.notBefore || found.issuedAt > store.root.notAfter) {
        throw bad(`the root signed a status list for ${found.organization}, which the trust list does not hold`,
          `根证书签发的状态列表所属机构${found.organization}不在信任列表中`);
      }
    } else {
      const signer = store.keys.get(hex(message.kid));
      if (!signer) throw bad(`status list signed by unknown key ${hex(message.kid)}`, `状态列表的签名密钥${hex(message.kid)}不在信任列表中`);
      found = await openStatusList(message, signer.key);
      if (found.organization !== signer.org.code || !(await keySignsListsAt(store, signer, found.issuedAt))) {
        throw bad(`the status list of ${found.organization} is not signed by a key valid for it when it was signed`,
          `机构${found.organization}的状态列表不是由其签发时有效的密钥签发的`);
      }
    }
    if (store.manifest && !named(store.manifest.lists.get(found.organization), await sha256(signed))) {
      throw unbound(`the status list of ${found.organization} is not the one this bundle's manifest names ` +
        "(an older or substituted list)", `机构${found.organization}的状态列表不是本信任包清单所列的那一份（旧的或被替换的列表）`);
    }
    const current = store.lists.get(found.organization);
    if (!current || current.issuedAt < found.issuedAt) store.lists.set(found.organization, found);
  }

  // --- the manifest and the tree head (core/manifest, core/transparency) ----------------------------
  // The manifest, signed by a log key of the trust list, names the SHA-256 of each part published
  // with it: a status list or tree head it does not name is set aside ("unbound": a part slipped in,
  // which a verifier that keeps state refuses). No check of a credential depends on the tree head.
  const named = (digest, actual) => isBytes(digest) && equal(digest, actual);
  const unbound = (en, cn) => Object.assign(bad(en, cn), { unbound: true });
  const isDigest = (v) => isBytes(v) && v.length === 32;
  async function openManifest(store, signed) {
    const no = (en, cn) => unbound(`manifest: ${en}`, `信任包清单：${cn}`);
    let message;
    try { message = sign1(signed); } catch (e) { throw no("not a signed message", "不是签名消息"); }
    const key = store.logs.get(hex(message.kid));
    if (!key || !(await verified(message, key))) throw no("not signed by a log key of the trust list", "不是由信任列表中的日志密钥签发的");
    let obj;
    try { obj = cbor(message.payload); } catch (e) { throw no("not deterministic CBOR", "不是确定性CBOR编码"); }
    const fields = ["version", "issued_at", "trust_list", "tree_head", "status_lists"];
    if (!isMap(obj) || obj.size !== 5 || !fields.every((f) => obj.has(f)) || obj.get("version") !== 1) {
      throw no("unknown fields or version", "字段或版本不符");
    }
    const lists = obj.get("status_lists"), head = obj.get("tree_head"), issued = obj.get("issued_at");
    if (!isDigest(obj.get("trust_list")) || !(head === null || isDigest(head)) || !isMap(lists) ||
      ![...lists].every(([code, digest]) => typeof code === "string" && isDigest(digest)) || typeof issued !== "string") {
      throw no("malformed fields", "字段格式错误");
    }
    const issuedAt = parseInstant(issued);
    if (issuedAt === null) throw no("issued_at is not a time", "签发时间格式错误");
    return { issuedAt, trustList: obj.get("trust_list"), treeHead: head, lists };
  }
  async function openTreeHead(store, signed) {
    const no = (en, cn) => bad(`tree head: ${en}`, `树头：${cn}`);
    let message;
    try { message = sign1(signed); } catch (e) { throw no("not a signed message", "不是签名消息"); }
    const key = store.logs.get(hex(message.kid));
    if (key === undefined) throw no(`log key ${hex(message.kid)} is not in the trust list`, "日志密钥不在信任列表中");
    if (!key || !(await verified(message, key))) throw no("the signature does not match", "签名不匹配");
    let obj;
    try { obj = cbor(message.payload); } catch (e) { throw no("not deterministic CBOR", "不是确定性CBOR编码"); }
    if (!isMap(obj) || obj.size !== 4 || !["version", "tree_size", "root_hash", "timestamp"].every((f) => obj.has(f))) {
      throw no("unexpected fields", "字段不符");
    }
    const size = obj.get("tree_size"), root = obj.get("root_hash"), timestamp = obj.get("timestamp");
    if (obj.get("version") !== 1 || !isInt(size) || size < 0) throw no("bad version or size", "版本或大小错误");
    if (!isDigest(root)) throw no("the root hash is not 32 bytes", "根哈希不是32字节");
    if (typeof timestamp !== "string") throw no("a time is not text", "时间格式错误");
    if (parseInstant(timestamp) === null) throw no(`'${timestamp}' is not a time`, "时间格式错误");
    if (store.manifest && !named(store.manifest.treeHead, await sha256(signed))) {
      throw unbound("the tree head is not the one this bundle's manifest names", "树头不是本信任包清单所列的那一个");
    }
    return { size: BigInt(size), root };
  }
  async function load(bundle) {
    if (bundle instanceof Uint8Array) bundle = readBundle(bundle).bundle;
    if (!bundle || typeof bundle !== "object" || bundle.format !== "issuer-trust-bundle" || ![1, 2].includes(bundle.version)) {
      throw bad("not an issuer trust bundle (version 1 or 2)", "不是第1或第2版信任包");
    }
    const rootDer = b64(bundle.root_certificate, "root_certificate");
    const root = certificate(rootDer);
    if (root.sm2) {
      const serverOnly = bad("root key is SM2: this page checks Ed25519 only", "根证书密钥为SM2：本页面只能验证Ed25519签名");
      serverOnly.reason = "server_only";
      throw serverOnly;
    }
    if (!root.key) throw bad("root key is not Ed25519", "根证书密钥不是Ed25519");
    let rootKey;
    try { rootKey = await importKey(root.key); } catch (e) { throw bad("root key is not Ed25519", "根证书密钥不是Ed25519"); }
    const store = {
      root, rootKey, rootKid: await kidOf(rootDer),
      organizations: new Map(), keys: new Map(), owners: new Map(), logs: new Map(), problems: [], lists: new Map(),
      sequence: 0, manifest: null, treeHead: null,
    };
    let message, payload, signedList;
    try { message = sign1(signedList = b64(bundle.trust_list, "trust_list")); } catch (e) {
      throw e.message.startsWith("trust bundle") ? e : bad("the trust list is not a signed message", "信任列表不是签名消息");
    }
    if (!equal(message.kid, store.rootKid) || !(await verified(message, store.rootKey))) {
      throw bad("the trust list is not signed by the root certificate", "信任列表不是由根证书签发的");
    }
    try { payload = cbor(message.payload); } catch (e) { throw bad("the trust list payload is malformed", "信任列表内容格式错误"); }
    const list = readTrustList(payload);
    store.sequence = list.sequence;
    for (const p of list.problems) {
      if (p.certificates) p.kids = await Promise.all(p.certificates.map(async (c) => hex(await kidOf(c))));
      store.problems.push(p);
    }
    const owners = store.owners;  // kid -> the organizations whose entries list a key with it, usable or not
    for (const org of list.organizations) {
      store.organizations.set(org.code, org);
      for (const entry of org.keys) {
        const kid = hex(await kidOf(entry.certificate));
        owners.set(kid, [...(owners.get(kid) || []), org.code]);
        try {
          const cert = certificate(entry.certificate);  // pki.parse_organization_certificate
          if (cert.malformed) throw bad("organization certificate is malformed", "机构证书格式错误");
          if (!cert.key) throw bad("organization key is not Ed25519", "机构密钥不是Ed25519");
          if (cert.orgCodes.length !== 1) throw bad("organization certificate carries no organization code", "机构证书缺少机构代码");
          let key;
          try { key = await importKey(cert.key); } catch (e) { throw bad("organization key is not Ed25519", "机构密钥不是Ed25519"); }
          cert.orgCode = cert.orgCodes[0];
          store.keys.set(kid, { org, entry, cert, key });
        } catch (error) {
          if (!(error instanceof Bad)) throw error;
          store.problems.push({
            part: "key", organization: org.code, kids: [kid],
            en: `a key certificate of organization ${org.code} cannot be read (${error.message})`,
            zh: `机构${org.code}的签名证书无法读取（${error.zh}）`,
          });
        }
      }
    }
    for (const [kid, codes] of owners) {  // two keys with one kid: which of them signed cannot be told
      if (codes.length < 2) continue;
      store.keys.delete(kid);
      store.problems.push({
        part: "key", organization: codes[0], kids: [kid],
        en: `${codes.length} keys of the trust list (${codes.join(", ")}) have the same key id ${kid}`,
        zh: `信任列表中${codes.length}个密钥（${codes.join("、")}）的密钥标识${kid}相同`,
      });
    }
    for (const p of store.problems) {  // a certificate an entry set aside holds is usable nowhere
      if (p.part === "organization") for (const kid of p.kids) store.keys.delete(kid);
    }
    for (const raw of list.logs) {  // a key WebCrypto refuses verifies nothing
      store.logs.set(hex(await kidOf(raw)), await importKey(raw).catch(() => null));
    }
    if (bundle.version !== 2) return store;
    const setAside = (part, error, more) => {
      if (!(error instanceof Bad)) throw error;
      store.problems.push({ part, kids: [], en: error.message, zh: error.zh, unbound: error.unbound === true, ...more });
    };
    let lists = bundle.status_lists;  // not an array: set aside, and no list is read
    if (!Array.isArray(lists)) {
      setAside("status_list", bad("trust bundle: status_lists is not an array", "信任包：status_lists不是数组"), { organization: null });
      lists = [];
    }
    if (bundle.manifest !== undefined && bundle.manifest !== null) {
      try {
        const found = await openManifest(store, b64(bundle.manifest, "manifest"));
        if (!equal(found.trustList, await sha256(signedList))) {
          throw unbound("the manifest names another trust list", "信任包清单所列的信任列表与本信任包的不一致");
        }
        store.manifest = found;
      } catch (error) { setAside("manifest", error); }
    }
    for (const value of lists) {
      try {
        await addStatusList(store, b64(value, "status_lists"));
      } catch (error) {
        // as far as its signer tells, never the unchecked payload: each organization whose entry
        // lists its kid, usable or set aside; none for the root's kid or an unknown signer
        let codes = [];
        try {
          const kid = sign1(b64(value, "status_lists")).kid;
          codes = equal(kid, store.rootKid) ? [] : owners.get(hex(kid)) || [];
        } catch (e) { /* none */ }
        for (const organization of codes.length ? codes : [null]) setAside("status_list", error, { organization });
      }
    }
    if (bundle.tree_head !== undefined && bundle.tree_head !== null) {
      try { store.treeHead = await openTreeHead(store, b64(bundle.tree_head, "tree_head")); } catch (error) { setAside("tree_head", error); }
    }
    return store;
  }
  // --- never going back (FORMAT §7, end of "Loading"; cli._refuse_going_back) -------------------------
  // A fetched bundle replaces the cached one only if it does not go back: it can be used, every
  // part it holds is one its manifest names (and its tree head checks out), its trust list's
  // sequence is not lower, it has a manifest not older than the cached one's (if that had one),
  // the tree head if the cached one had one, and no organization's status list older than the
  // cached one's. Not done here: the consistency proof (RFC 9162) that the log extends the cached
  // tree head, which `issuer trust pull` asks the service for; only a smaller tree, or another
  // root for the same size, is refused. Resolves to null, or why the fetched bundle goes back.
  const BACK = {
    unusable: ["无法使用", "cannot be used"],
    unbound: ["含有其清单未列出的部分", "holds a part its manifest does not name"],
    tree_head: ["所带的日志树头未通过核验", "carries a log tree head that does not check out"],
    trust_list: ["的信任列表比本机的旧", "holds an older trust list than this device"],
    manifest: ["的清单缺失或比本机的旧", "has no manifest, or an older one than this device's"],
    no_tree_head: ["缺少本机已有的日志树头", "lacks the log tree head this device holds"],
    log: ["的日志比本机的短或与之不一致", "has a shorter log than this device, or another one"],
  };
  async function goesBack(keptBundle, fetchedBundle) {
    const back = (code, organization) => {
      const [cn, en] = organization ? [`所含机构${organization}的状态列表比本机的旧`,
        `holds an older status list of organization ${organization} than this device`] : BACK[code];
      return { code: organization ? "status_list" : code, organization, zh: cn, en };
    };
    let kept, fetched;
    try { kept = await load(keptBundle); } catch (e) { return null; }  // nothing usable is cached
    try { fetched = await load(fetchedBundle); } catch (e) { return back("unusable"); }
    if (fetched.problems.some((p) => p.unbound)) return back("unbound");
    if (fetched.problems.some((p) => p.part === "tree_head")) return back("tree_head");
    if (fetched.sequence < kept.sequence) return back("trust_list");
    if (kept.treeHead && !fetched.treeHead) return back("no_tree_head");
    if (kept.manifest && (!fetched.manifest || fetched.manifest.issuedAt < kept.manifest.issuedAt)) return back("manifest");
    for (const [code, list] of kept.lists) {
      const now = fetched.lists.get(code);
      if (now && now.issuedAt < list.issuedAt) return back(null, code);
    }
    const [before, head] = [kept.treeHead, fetched.treeHead];
    if (before && head && (head.size < before.size || (head.size === before.size && !equal(head.root, before.root)))) {
      return back("log");
    }
    return null;
  }

  // Why a kid has no usable key: its key or organization entry was set aside; or an entry set
  // aside holds a key whose certificate cannot be read, which any kid may be (TrustStore.unreadable).
  function unreadable(store, kid) {
    return store.problems.find((p) => p.kids && p.kids.includes(kid)) ||
      store.problems.find((p) => p.part === "organization" && !p.complete);
  }

  // --- the claims (core/credential.decode_payload) ----------------------------------------------
  // Checked in the order the reference checks them, so that the first problem found has the
  // same words; a claim our encoder would write otherwise (an NFD name, a "--" 工种, an explicit
  // default edition) is refused, not repaired.
  function claims(payload) {
    const no = (en, cn) => bad(`claims: ${en}`, `声明内容：${cn}`);
    const map = cbor(payload);
    if (!isMap(map) || ![...map.keys()].every(isInt)) throw no("not a map with integer keys", "不是整数键的映射");
    // Version 3 is version 2 with claim -12, the assessment method (评价方式), which it must carry.
    const third = isInt(map.get(-1)) && Number(map.get(-1)) === 3;
    const required = [-1, -2, -3, -4, -5, -6, -9, -10, ...(third ? [-12] : [])], optional = [-7, -8, -11];
    if (!required.every((k) => map.has(k)) || ![...map.keys()].every((k) => required.includes(k) || optional.includes(k))) {
      throw no("missing or unknown claims", "缺少或多出声明");
    }
    const typed = (key, kind, fallback) => {
      if (!map.has(key)) return fallback;
      const value = map.get(key);
      if (!(kind === "int" ? isInt(value) : kind === "str" ? typeof value === "string" : isBytes(value))) {
        throw no(`claim ${key} has the wrong type`, `声明${key}类型错误`);
      }
      return value;
    };
    const version = typed(-1, "int");
    if (version !== 1 && version !== 2 && version !== 3) throw no("unsupported format version", "不支持的格式版本");
    const issued = typed(-10, "int"), cred = { version, issuedAt: null };
    if (version === 1) {
      if (!(issued >= 0 && issued <= 100000)) throw no("issue date out of range", "发证日期超出范围");
      cred.issueDay = Number(issued);
    } else {
      if (!(issued >= 0 && issued <= 2 ** 32 - 1)) throw no("issue time out of range", "发证时间超出范围");
      cred.issuedAt = Number(issued) * SECOND;
      cred.issueDay = chinaDay(cred.issuedAt);
    }
    // the number: 9 bytes, 2·D + t (t = 1 for S), D the 21 digits after the letter
    const packed = typed(-2, "bytes");
    if (packed.length !== 9) throw no("packed number is not 9 bytes", "压缩编号不是9字节");
    const value = packed.reduce((v, b) => (v << 8n) | BigInt(b), 0n), digits = value >> 1n;
    if (digits >= 10n ** 21n) throw no("packed number is out of range", "压缩编号超出范围");
    const number = (cred.number = (value & 1n ? "S" : "Y") + digits.toString().padStart(21, "0"));
    const position = (at, en, cn, got) => no(`position ${at}: expected ${en}, got '${got}'`, `第${at}位：应为${cn}，实为“${got}”`);
    if (!PROVINCES.includes(number.slice(5, 7))) throw position(6, "a GB/T 2260 province code", "GB/T 2260 省份代码", number.slice(5, 7));
    if (!"12345".includes(number[15])) throw position(16, "a level code from 1 to 5", "1至5的等级代码", number[15]);
    if (number.slice(13, 15) < "19") throw position(14, "a year from 2019 on", "2019年及以后的年份", number.slice(13, 15));
    if (number.slice(16) === "000000") throw position(17, "a serial from 000001 to 999999", "000001至999999的流水号", "000000");
    cred.year = 2000 + Number(number.slice(13, 15));
    cred.numberLevel = Number(number[15]);
    const name = typed(-3, "str"), documentType = typed(-4, "int"), commitment = typed(-5, "bytes");
    const occupation = typed(-6, "int");
    if (!(occupation >= 1000000 && occupation <= 8999999)) {
      throw no(`packed occupation code ${occupation} is out of range`, `压缩职业编码${occupation}超出范围`);
    }
    const o = String(occupation);
    cred.occupation = `${o[0]}-${o.slice(1, 3)}-${o.slice(3, 5)}-${o.slice(5, 7)}`;
    cred.level = typed(-9, "int");
    cred.workType = typed(-8, "str", null);
    cred.edition = typed(-7, "int", 2022);
    cred.statusIndex = typed(-11, "int", null);
    cred.method = typed(-12, "int", 1);
    // Category C is looked for before NFC: NFC leaves such code points as they are, and text
    // without them normalizes alike in Unicode 14.0.0 and every later version (stability).
    const clean = (text, en, cn) => {
      const stripped = strip(text), out = stripped.normalize("NFC");
      if (!out || [...out].length > 64 || [...stripped].some((c) => isCategoryC(c.codePointAt(0)))) {
        throw no(`${en} must be 1 to 64 printable characters`, `${cn}应为1至64个可打印字符`);
      }
      return out;
    };
    let canonical = clean(name, "holder name", "持证人姓名") === name;
    if (cred.workType !== null) {  // an empty or "--" 工种 is written as none
      const trimmed = strip(cred.workType);
      if (!trimmed || trimmed === "--" || clean(trimmed, "work type", "工种/职业方向") !== cred.workType) canonical = false;
    }
    if (![1, 2, 3, 4, 5].includes(cred.level)) throw no(`level must be 1 to 5, got ${cred.level}`, `等级应为1至5，实为${cred.level}`);
    if (commitment.length !== 24) throw no("commitment must be 24 bytes", "证件号码承诺值应为24字节");
    if (!(documentType >= 1 && documentType < 24)) throw no("document type code must be 1-23", "证件类型代码应为1至23");
    if (cred.statusIndex !== null && !(cred.statusIndex >= 0 && cred.statusIndex <= 2 ** 32 - 1)) {
      throw no("status index out of range", "状态列表索引超出范围");
    }
    if (!(cred.edition >= 1999 && cred.edition <= 2999)) throw no("catalogue edition must be a year", "职业分类大典版本应为年份");
    if (!(cred.method >= 1 && cred.method <= 23)) throw no("assessment method code must be 1-23", "评价方式代码应为1至23");
    if (!canonical || (map.has(-7) && cred.edition === 2022)) throw no("claims are not in their canonical form", "声明内容不是规范形式");
    if (map.has(-12) && cred.method === 1) throw no("claims are not in their canonical form", "声明内容不是规范形式");
    if (cred.statusIndex !== null) cred.statusIndex = Number(cred.statusIndex);
    cred.method = Number(cred.method);
    return cred;
  }

  // --- the rules (core/policy), judged at the issue instant, or on the issue date (version 1) ---
  const STATUS_ZH = { active: "正常", suspended: "暂停", cancelled: "撤销备案" };
  const LEVEL_ZH = ["", "一级/高级技师", "二级/技师", "三级/高级工", "四级/中级工", "五级/初级工"];
  function issueTime(cred) {
    const t = { day: cred.issueDay, instant: cred.issuedAt };
    t.en = t.instant === null ? `on ${isoDay(t.day)}` : `at ${isoDay(t.day)} ${chinaClock(t.instant)} (China time)`;
    t.zh = t.instant === null ? dateZh(t.day) : `${dateZh(t.day)}${chinaClock(t.instant)}（北京时间）`;
    return t;
  }
  const within = (when, start, end) =>
    when.instant === null ? chinaDay(start) <= when.day && when.day <= chinaDay(end) : start <= when.instant && when.instant <= end;
  const before = (when, event, dayCounts) =>
    when.instant !== null ? when.instant < event : dayCounts ? when.day <= chinaDay(event) : when.day < chinaDay(event);
  const shown = (ms) => (ms === null ? ["an unknown time", "未知时间"] :
    [`${isoDay(chinaDay(ms))} ${chinaClock(ms)} (China time)`, `${dateZh(chinaDay(ms))}${chinaClock(ms)}`]);

  async function checkCertificate(store, signer, when) {
    const broken = (code, en, cn) => new Rule("certificate_chain", code, en, cn);
    const cert = signer.cert;
    if (!(await chainsToRoot(store, signer))) {
      throw broken("not_certified", "the organization certificate is not signed by the root", "机构证书不是由根证书签发的");
    }
    if (!isSigningCertificate(cert)) {
      throw broken("not_certified", "the organization certificate is not an end-entity signing certificate", "机构证书不是用于签名的终端证书");
    }
    if (!within(when, store.root.notBefore, store.root.notAfter)) {
      throw broken("certificate_not_valid_then", `issued ${when.en}, outside the root certificate's validity`, `发证时间${when.zh}不在根证书有效期内`);
    }
    if (!within(when, cert.notBefore, cert.notAfter)) {
      throw broken("certificate_not_valid_then", `issued ${when.en}, outside the signing certificate's validity`,
        `发证时间${when.zh}不在机构签名证书有效期内`);
    }
    if (cert.orgCode !== signer.org.code) throw broken("not_certified", "the certificate names another organization", "机构证书所属机构不一致");
  }
  function checkKey(entry, when) {
    if (entry.status === "compromised" && (entry.compromisedAt === null || !before(when, entry.compromisedAt, false))) {
      const [en, cn] = shown(entry.compromisedAt);
      throw new Rule("key_status", "key_compromised", `the signing key was revoked as compromised from ${en}`, `签名密钥已于${cn}起注销（泄露）`);
    }
    if (entry.retiredAt !== null && !before(when, entry.retiredAt, true)) {
      const [en, cn] = shown(entry.retiredAt);
      throw new Rule("key_status", "key_retired", `the signing key was retired at ${en}; it signs nothing issued later`,
        `签名密钥已于${cn}停用，此后签发的证书无效`);
    }
  }
  function checkRegistration(org, when) {
    if (!(org.registeredFrom <= when.day && (org.registeredUntil === null || when.day <= org.registeredUntil))) {
      throw new Rule("registration", "not_registered", `the organization's registration did not cover ${isoDay(when.day)}`,
        `${dateZh(when.day)}不在机构备案有效期内`);
    }
    let status = null;  // status_at the instant, or status_on the China date (version 1)
    for (const change of org.history) {
      if (when.instant !== null ? change.since <= when.instant : chinaDay(change.since) <= when.day) status = change.status;
    }
    if (status !== "active") {
      const code = { suspended: "organization_suspended", cancelled: "organization_cancelled" }[status] || "not_registered";
      throw new Rule("registration", code, `the organization was ${status || "not registered"} ${when.en}`,
        `${when.zh}机构状态为${STATUS_ZH[status] || "未备案"}`);
    }
  }
  function checkScope(org, cred, when) {
    const covered = org.scope.some((s) =>
      s.occupation === cred.occupation && s.edition === cred.edition && s.levels.includes(cred.level) &&
      (!s.workTypes.length || s.workTypes.includes(cred.workType)) &&
      (when.instant !== null
        ? (s.from === null || s.from <= when.instant) && (s.until === null || when.instant < s.until)
        : (s.from === null || chinaDay(s.from) <= when.day) && (s.until === null || when.day <= chinaDay(s.until - SECOND))));
    if (!covered) {
      const work = cred.workType ? [` (${cred.workType})`, `（${cred.workType}）`] : ["", ""];
      throw new Rule("scope", "out_of_scope",
        `occupation ${cred.occupation}${work[0]} level ${cred.level} was not in the organization's scope ${when.en}`,
        `${when.zh}职业${cred.occupation}${work[1]}${LEVEL_ZH[cred.level]}不在机构备案范围内（不得超范围评价）`);
    }
  }
  function checkNumber(cred, signerCode) {
    const n = cred.number, issueYear = yearOf(cred.issueDay);
    if (n.slice(0, 13) !== signerCode) {
      throw new Rule("number", "number_not_of_signer", `number ${n} does not belong to organization ${signerCode}`,
        `证书编号${n}不属于机构${signerCode}`);
    }
    if (cred.year !== issueYear) {
      throw new Rule("number", "number_year_mismatch",
        `the number's year ${cred.year} differs from the issue date ${isoDay(cred.issueDay)}`,
        `编号年份${cred.year}与发证日期${dateZh(cred.issueDay)}不一致`);
    }
    if (cred.numberLevel !== cred.level) {
      throw new Rule("number", "number_level_mismatch", `the number's level ${cred.numberLevel} differs from level ${cred.level}`,
        `编号等级${cred.numberLevel}与证书等级${cred.level}不一致`);
    }
  }

  // The assessment methods a credential names (claim -12, docs/FORMAT.md §3); 1, 考试考核, is
  // never written. A code this page does not know is shown as its number.
  const METHODS = { 2: ["工作业绩评审", "work performance review"], 3: ["过程考核", "process assessment"],
    4: ["竞赛选拔", "selection by competition"] };
  const methodName = (code) => METHODS[code] || [`评价方式${code}`, `assessment method ${code}`];

  // --- the verifier (core/verify) -------------------------------------------------------------
  const CHECKS = ["decodable", "known_key", "signature", "claims", "certificate_chain", "key_status", "registration",
    "scope", "number", "issue_date", "status"];

  async function verify(text, store, at) {
    const checks = [];
    let signer = null, cred = null;
    const finish = (status) => {
      for (const name of CHECKS.slice(checks.length)) checks.push({ name, outcome: "not_run" });
      const failed = checks.find((c) => c.outcome === "failed");
      const deciding = checks.find((c) => c.outcome === "failed" || c.outcome === "unknown");
      // explain.py: a certificate that ended with the registration is said as "not registered"
      const unregistered = Boolean(signer && cred && !(signer.org.registeredFrom <= cred.issueDay &&
        (signer.org.registeredUntil === null || cred.issueDay <= signer.org.registeredUntil)));
      return {
        status, failed_check: failed ? failed.name : null, reason: deciding ? deciding.reason : null,
        deciding, checks, organization: signer ? signer.org.name : null, unregistered,
        method: cred && cred.method !== 1 ? methodName(cred.method) : null,
      };
    };
    const end = (name, outcome, reason, en, cn, status) => {
      checks.push({ name, outcome, reason, detail: en, detail_zh: cn });
      return finish(status);
    };
    const passed = (name) => checks.push({ name, outcome: "passed" });

    let message;
    try { message = sign1(qrBytes(text)); } catch (error) {
      if (!(error instanceof Bad)) throw error;
      return end("decodable", "failed", "malformed", error.message, error.zh, "not_valid");
    }
    passed("decodable");
    const kid = hex(message.kid);
    signer = store.keys.get(kid) || null;
    if (!signer) {
      const problem = unreadable(store, kid);
      if (problem) return end("known_key", "unknown", "organization_unreadable", problem.en, problem.zh, "unknown");
      return end("known_key", "failed", "unknown_key", `no key ${kid} in the trust list`, `信任列表中没有密钥${kid}`, "not_valid");
    }
    passed("known_key");
    if (!(await verified(message, signer.key))) {
      signer = null;
      return end("signature", "failed", "bad_signature", "the signature does not match", "签名不匹配", "not_valid");
    }
    passed("signature");
    try { cred = claims(message.payload); } catch (error) {
      if (!(error instanceof Bad)) throw error;
      return end("claims", "failed", "malformed_claims", error.message, error.zh, "not_valid");
    }
    passed("claims");
    const when = issueTime(cred);
    const dated = [
      () => checkCertificate(store, signer, when),
      () => checkKey(signer.entry, when),
      () => checkRegistration(signer.org, when),
      () => checkScope(signer.org, cred, when),
      () => checkNumber(cred, signer.cert.orgCode),
      () => {
        if (cred.issueDay > chinaDay(at)) {
          throw new Rule("issue_date", "issued_in_future", `issue date ${isoDay(cred.issueDay)} is after ${isoDay(chinaDay(at))}`,
            `发证日期${dateZh(cred.issueDay)}晚于验证日期`);
        }
      },
    ];
    for (let i = 0; i < dated.length; i++) {
      try { await dated[i](); } catch (error) {
        if (!(error instanceof Rule)) throw error;
        return end(error.check, "failed", error.code, error.message, error.zh, "not_valid");
      }
      passed(CHECKS[4 + i]);
    }
    // status: revocation is final, even on a list too old to vouch for anything else
    const code = signer.org.code, list = store.lists.get(code), index = cred.statusIndex;
    if (list && index !== null && index < list.size && isRevoked(list, index)) {
      return end("status", "failed", "revoked", `revoked (status list of ${instantText(list.issuedAt)})`,
        `已撤销（依据${dateZh(chinaDay(list.issuedAt))}的状态列表）`, "revoked");
    }
    const problem = store.problems.find((p) => p.part === "status_list" && p.organization === code);
    if (!list && problem) {
      return end("status", "unknown", "status_list_unusable", `the organization's status list cannot be used: ${problem.en}`,
        `机构的状态列表无法使用：${problem.zh}`, "unknown");
    }
    if (!list) {
      return end("status", "unknown", "status_unknown", "no status list for this organization in the trust bundle",
        "信任包中没有该机构的状态列表", "unknown");
    }
    if (at > expiresAt(list)) {
      const hours = Math.floor(list.maxAge / 3600);
      return end("status", "unknown", "status_unknown",
        `signature valid, status unknown since ${instantText(list.issuedAt)} (the status list is older than ${hours} h)`,
        `签名有效，但自${dateZh(chinaDay(list.issuedAt))}起的撤销状态未知（状态列表已超过${hours}小时）`, "unknown");
    }
    if (index === null || index >= list.size) {
      return end("status", "unknown", "status_unknown", "the credential has no index in its organization's status list",
        "该证书在机构状态列表中没有索引，无法判断撤销状态", "unknown");
    }
    passed("status");
    return finish("valid");
  }

  // --- what it means (core/explain) -------------------------------------------------------------
  const FORGED = ["malformed", "bad_signature", "malformed_claims", "not_certified", "number_not_of_signer",
    "number_year_mismatch", "number_level_mismatch", "issued_in_future"];
  const PLAIN = {
    forged: ["证书无效：二维码内容未通过验证", "Not valid: the code failed verification",
      "二维码内容被改动、已损坏，或并非备案评价机构签发。", "The code was altered, is damaged, or was not signed by a registered organization."],
    unknown_key: ["证书无效：签发者不在备案机构名单中", "Not valid: not signed by a registered organization",
      "签名所用的密钥不属于任何备案的评价机构。", "The key that signed it belongs to no registered evaluation organization."],
    certificate_not_valid_then: ["证书无效：发证时机构签名证书不在有效期内",
      "Not valid: the organization's signing certificate was not valid when it was issued"],
    not_registered: ["证书无效：发证机构在发证日期未获备案", "Not valid: the organization was not registered when it was issued"],
    organization_suspended: ["证书无效：发证时机构已被暂停评价", "Not valid: issued while the organization was suspended"],
    organization_cancelled: ["证书无效：发证时机构已被撤销备案", "Not valid: issued after the organization's registration was cancelled"],
    out_of_scope: ["证书无效：发证机构无权评价该职业（工种）等级", "Not valid: the organization was not registered for this occupation and level"],
    key_compromised: ["证书无效：发证机构的签名密钥已注销", "Not valid: the organization's signing key was reported compromised"],
    key_retired: ["证书无效：签名密钥在发证时已停用", "Not valid: signed with a key already retired"],
    organization_unreadable: ["无法判断：发证机构的备案信息暂时无法核验", "Cannot tell: the organization's registration cannot be checked right now",
      "签名无法核对，因为发证机构的备案信息暂时无法读取。", "The signature cannot be checked because the organization's registration data cannot be read."],
    status_list_unusable: ["无法判断：暂时无法确认证书是否被撤销", "Cannot tell: whether it was revoked cannot be checked right now",
      "签名有效，但发证机构的撤销名单暂时无法核验。", "The signature is valid, but the organization's revocation list cannot be checked right now."],
    status_unknown: ["无法判断：暂时无法确认证书是否被撤销", "Cannot tell: whether it was revoked is not known"],
    // not from explain.py: the device itself cannot check
    bundle_unusable: ["无法判断：本机缓存的信任数据无法使用", "Cannot tell: the trust data on this device cannot be used"],
    offline_error: ["无法判断：本机无法完成验证", "Cannot tell: this device could not complete the check"],
    server_only: ["无法在本机判断：本服务使用国密SM2签名，本页面只能验证Ed25519签名，请以上方服务器的验证结果为准",
      "Cannot tell on this device: this service signs with SM2 (国密), which this page cannot check; rely on the service's verdict above"],
  };
  function explain(v) {
    if (v.status === "valid") {
      return ["证书有效", "Certificate valid", `由备案评价机构${v.organization}签发，签名有效，未被撤销。`,
        `Signed by the registered organization ${v.organization}; not revoked.`];
    }
    if (v.status === "revoked") return ["证书已撤销", "Certificate revoked", "发证机构撤销了该证书。", "The issuing organization revoked it."];
    let key = FORGED.includes(v.reason) ? "forged" : v.reason || "forged";
    if (key === "certificate_not_valid_then" && v.unregistered) key = "not_registered";
    const [headZh, headEn, plainZh, plainEn] = PLAIN[key] || PLAIN.forged;
    return [headZh, headEn, plainZh || (v.deciding ? v.deciding.detail_zh : ""), plainEn || (v.deciding ? v.deciding.detail : "")];
  }

  // An instant: milliseconds since the epoch, or ISO 8601 text with its offset from UTC (a time
  // without one is refused, never taken as UTC or the device's time).
  function instantOf(at) {
    const ms = typeof at === "number" ? at
      : typeof at === "string" && /(?:Z|[+-]\d\d:?\d\d)$/i.test(at) && /^\d{4}-\d\d-\d\dT/.test(at) ? Date.parse(at) : NaN;
    if (!Number.isFinite(ms)) throw new Error("a time needs an offset from UTC, e.g. 2026-11-29T08:00:00+08:00");
    return ms;
  }
  // Never rejects: a bundle that cannot be read, or anything unexpected, is "unknown". The bundle
  // is its JSON value, or the bytes of the file.
  async function run(payload, bundle, at) {
    let verdict;
    try {
      verdict = await verify(payload, await load(bundle), instantOf(at));
    } catch (error) {
      const reason = error instanceof Bad ? error.reason || "bundle_unusable" : "offline_error";
      const message = String(error && error.message);
      const detail = { detail: message, detail_zh: error instanceof Bad ? error.zh : message };
      verdict = { status: "unknown", failed_check: null, reason, deciding: detail, checks: [], organization: null };
    }
    const [headZh, headEn, textZh, textEn] = explain(verdict);
    const d = verdict.deciding || {};
    return {
      status: verdict.status, failed_check: verdict.failed_check, reason: verdict.reason,
      headline: headEn, headline_zh: headZh, explanation: textEn, explanation_zh: textZh,
      detail: d.detail || "", detail_zh: d.detail_zh || "", organization: verdict.organization,
      checks: verdict.checks.map((c) => ({ name: c.name, outcome: c.outcome, reason: c.reason || "" })),
    };
  }
  window.issuerOfflineVerify = run;  // the test hook (see the top of this file), and for the tests:
  run.goesBack = async (kept, fetched) => { const why = await goesBack(kept, fetched); return why && [why.code, why.organization]; };
  run.setAside = async (bundle) => (await load(bundle)).problems.map((p) => [p.part, p.organization || null, !!p.unbound, p.en, p.zh]);
  run.categoryC = () => CATEGORY_C.firsts.map((first, i) => [first, CATEGORY_C.lasts[i]]);

  // --- the page -------------------------------------------------------------------------------
  const section = document.getElementById("offline");
  if (!section || !window.crypto || !crypto.subtle || !window.DecompressionStream) return;
  const say = (cn, en) => (zh() ? cn : en);
  const out = document.getElementById("offline-result");
  const button = document.getElementById("offline-button");
  const CACHE_KEY = "issuer-trust-bundle";
  const REFRESH_MS = 24 * 3600 * 1000;

  async function download() {  // a bundle that is not UTF-8 JSON is kept as its bytes: load() refuses it
    const response = await fetch("/api/v1/trust-bundle", { credentials: "omit", cache: "no-cache" });
    if (!response.ok) throw new Error(String(response.status));
    const bytes = new Uint8Array(await response.arrayBuffer());
    let read = { text: null, bundle: bytes };
    try { read = readBundle(bytes); } catch (e) { /* unusable */ }
    return { ...read, fetchedAt: Date.now(), cached: false };
  }
  // The fetched bundle, now cached, unless it goes back from the cached one: then the cached
  // one speaks on, and the verdict says so.
  async function refresh(kept) {
    const fetched = await download();
    const back = kept ? await goesBack(kept.bundle, fetched.bundle) : null;
    if (back) return { ...kept, refused: back };
    if (fetched.text === null) return fetched;  // not worth caching
    try {
      localStorage.setItem(CACHE_KEY, fetched.text);
      localStorage.setItem(CACHE_KEY + "-at", String(fetched.fetchedAt));
    } catch (e) { /* private mode or full: the check still runs */ }
    return fetched;
  }
  function cached() {
    try {
      const text = localStorage.getItem(CACHE_KEY);
      return text ? { bundle: JSON.parse(text), fetchedAt: Number(localStorage.getItem(CACHE_KEY + "-at") || 0), cached: true } : null;
    } catch (e) { return null; }
  }
  async function trustBundle() {  // the cached bundle; one older than 24 h is fetched again
    const kept = cached();
    if (kept && Date.now() - kept.fetchedAt < REFRESH_MS) return kept;
    try { return await refresh(kept); } catch (error) {
      if (kept) return kept;  // offline: the older bundle still speaks
      throw error;
    }
  }
  function when(ms) {
    const day = chinaDay(ms), time = chinaClock(ms).slice(0, 5);
    return say(`${dateZh(day)} ${time}（北京时间）`, `${isoDay(day)} ${time} (China time)`);
  }
  function show(result, source) {
    const block = document.createElement("div");
    block.className = "verdict " + result.status;
    block.id = "offline-verdict";
    block.dataset.status = result.status;
    block.dataset.failedCheck = result.failed_check || "";
    block.dataset.reason = result.reason || "";
    const mark = document.createElement("div");
    mark.className = "mark";
    mark.setAttribute("aria-hidden", "true");
    mark.textContent = { valid: "✓", revoked: "✕", not_valid: "✕", unknown: "?" }[result.status];
    const body = document.createElement("div");
    const line = (tag, text, className) => {
      if (!text) return;
      const node = document.createElement(tag);
      node.textContent = text;
      if (className) node.className = className;
      body.appendChild(node);
    };
    const explanation = say(result.explanation_zh, result.explanation), detail = say(result.detail_zh, result.detail);
    line("h3", say(result.headline_zh, result.headline));
    line("p", explanation);
    if (detail && detail !== explanation) line("p", detail, "detail");
    if (result.method) line("p", say(`评价方式：${result.method[0]}`, `Assessment method: ${result.method[1]}`), "detail method");
    line("p", source ? say(
      `本结果由本设备用本机缓存的信任包验证，未询问服务器；信任包获取于${when(source.fetchedAt)}。`,
      `Checked on this device with its cached trust bundle, without asking the server; the bundle was fetched ${when(source.fetchedAt)}.`,
    ) : say("本机没有可用的信任包，且无法连接服务器下载。", "This device holds no trust bundle and could not download one."), "detail device");
    if (source && source.refused) {
      line("p", say(`本设备继续使用先前获取的信任数据，未采用刚下载的信任包：它${source.refused.zh}。`,
        `This device kept its earlier trust data and did not take the bundle it just downloaded: that bundle ${source.refused.en}.`),
      "detail device kept");
    }
    block.append(mark, body);
    out.replaceChildren(block);
  }

  section.hidden = false;
  button.addEventListener("click", async () => {
    button.disabled = true;
    out.textContent = say("正在验证…", "Checking…");
    const payload = section.dataset.payload;
    try {
      let source = await trustBundle();
      let result = await run(payload, source.bundle, Date.now());
      // A damaged cache, or a key newer than the cached trust list: fetch once more if online.
      if ((result.reason === "bundle_unusable" || result.reason === "unknown_key") && source.cached && !source.refused) {
        source = await refresh(source).catch(() => source);
        if (!source.cached) result = await run(payload, source.bundle, Date.now());
      }
      show(result, source);
    } catch (error) {
      const [headZh, headEn] = PLAIN.offline_error;
      show({ status: "unknown", headline: headEn, headline_zh: headZh, detail: "", detail_zh: "" }, null);
    } finally {
      button.disabled = false;
    }
  });
})();
