// Verify a scanned certificate in this browser, with the trust bundle it has cached and
// WebCrypto Ed25519: the trust list against the root, the credential against its
// organization's key, and the revocation bit in the organization's status list.
// The page works without this script; this only adds a second, independent check.
"use strict";

(function () {
  const section = document.getElementById("offline");
  if (!section || !window.crypto || !crypto.subtle || !window.DecompressionStream) return;
  const zh = document.documentElement.lang !== "en";
  const say = (cn, en) => (zh ? cn : en);
  const out = document.getElementById("offline-result");
  const CACHE_KEY = "issuer-trust-bundle";

  // --- bytes -----------------------------------------------------------------------------
  const b64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  function base32(text) {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let bits = 0, value = 0;
    const bytes = [];
    for (const c of text.toUpperCase().replace(/=+$/, "")) {
      const v = alphabet.indexOf(c);
      if (v < 0) throw new Error("base32");
      value = (value << 5) | v;
      bits += 5;
      if (bits >= 8) { bits -= 8; bytes.push((value >> bits) & 0xff); }
    }
    return new Uint8Array(bytes);
  }
  const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

  // --- CBOR (RFC 8949): the subset our formats use ----------------------------------------
  function decode(bytes) {
    let at = 0;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    function length(info) {
      if (info < 24) return info;
      if (info === 24) return bytes[at++];
      if (info === 25) { const v = view.getUint16(at); at += 2; return v; }
      if (info === 26) { const v = view.getUint32(at); at += 4; return v; }
      if (info === 27) { const v = Number(view.getBigUint64(at)); at += 8; return v; }
      throw new Error("cbor length");
    }
    function item() {
      const head = bytes[at++], major = head >> 5, info = head & 31;
      if (major === 7) {
        if (info === 20) return false;
        if (info === 21) return true;
        if (info === 22) return null;
        throw new Error("cbor simple");
      }
      const n = length(info);
      switch (major) {
        case 0: return n;
        case 1: return -1 - n;
        case 2: { const v = bytes.slice(at, at + n); at += n; return v; }
        case 3: { const v = new TextDecoder().decode(bytes.slice(at, at + n)); at += n; return v; }
        case 4: { const a = []; for (let i = 0; i < n; i++) a.push(item()); return a; }
        case 5: { const m = new Map(); for (let i = 0; i < n; i++) { const k = item(); m.set(k, item()); } return m; }
        case 6: return { tag: n, value: item() };
      }
      throw new Error("cbor type");
    }
    const value = item();
    if (at !== bytes.length) throw new Error("cbor trailing bytes");
    return value;
  }
  function head(major, n) {
    if (n < 24) return [(major << 5) | n];
    if (n < 256) return [(major << 5) | 24, n];
    if (n < 65536) return [(major << 5) | 25, n >> 8, n & 0xff];
    return [(major << 5) | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  }
  function sigStructure(protectedHeader, payload) {
    const text = new TextEncoder().encode("Signature1");
    const parts = [head(4, 4), head(3, text.length), text, head(2, protectedHeader.length), protectedHeader,
      head(2, 0), head(2, payload.length), payload];
    const size = parts.reduce((s, p) => s + p.length, 0);
    const out = new Uint8Array(size);
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }

  // --- COSE_Sign1 and keys -----------------------------------------------------------------
  function sign1(bytes) {
    const message = decode(bytes);
    if (!message || message.tag !== 18 || !Array.isArray(message.value) || message.value.length !== 4) {
      throw new Error("not COSE_Sign1");
    }
    const [protectedHeader, , payload, signature] = message.value;
    const header = decode(protectedHeader);
    if (header.get(1) !== -8) throw new Error("not EdDSA");
    return { protectedHeader, kid: header.get(4), payload, signature };
  }
  function ed25519Key(certificateDer) {
    // SubjectPublicKeyInfo of Ed25519: SEQUENCE { SEQUENCE { OID 1.3.101.112 } BIT STRING }
    const prefix = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
    for (let i = 0; i + prefix.length + 32 <= certificateDer.length; i++) {
      if (prefix.every((b, j) => certificateDer[i + j] === b)) {
        return crypto.subtle.importKey("raw", certificateDer.slice(i + 12, i + 44), { name: "Ed25519" }, false, ["verify"]);
      }
    }
    throw new Error("no Ed25519 key");
  }
  async function verified(message, key) {
    return crypto.subtle.verify({ name: "Ed25519" }, key, message.signature, sigStructure(message.protectedHeader, message.payload));
  }
  const kidOf = async (der) => new Uint8Array(await crypto.subtle.digest("SHA-256", der)).slice(0, 8);

  async function gunzip(bytes) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  // --- the trust bundle, cached --------------------------------------------------------------
  const REFRESH_MS = 24 * 3600 * 1000;
  async function bundle() {
    const cached = localStorage.getItem(CACHE_KEY);
    const fetchedAt = Number(localStorage.getItem(CACHE_KEY + "-at") || 0);
    if (cached && Date.now() - fetchedAt < REFRESH_MS) return { bundle: JSON.parse(cached), cached: true };
    try {
      const response = await fetch("/api/v1/trust-bundle", { credentials: "omit" });
      if (!response.ok) throw new Error(String(response.status));
      const text = await response.text();
      localStorage.setItem(CACHE_KEY, text);
      localStorage.setItem(CACHE_KEY + "-at", String(Date.now()));
      return { bundle: JSON.parse(text), cached: false };
    } catch (error) {
      if (cached) return { bundle: JSON.parse(cached), cached: true };  // offline: the older bundle still speaks
      throw error;
    }
  }

  async function check(payload) {
    const { bundle: b, cached } = await bundle();
    const rootDer = b64(b.root_certificate);
    const trustList = sign1(b64(b.trust_list));
    if (!(await verified(trustList, await ed25519Key(rootDer)))) {
      return say("信任包无效：信任列表不是根证书签发的", "Unusable bundle: the trust list is not signed by the root");
    }
    const list = decode(trustList.payload);
    const credential = sign1(base32(payload.split("/").pop()));
    for (const org of list.get("organizations")) {
      for (const k of org.get("keys")) {
        const der = k.get("certificate");
        if (!equal(await kidOf(der), credential.kid)) continue;
        if (!(await verified(credential, await ed25519Key(der)))) {
          return say("签名无效：内容被篡改", "Signature NOT valid: the content was altered");
        }
        const claims = decode(credential.payload);
        const status = await revocation(b, org, claims.get(-11));
        const when = list.get("issued_at").slice(0, 10);
        return say(
          `签名有效：由${org.get("name")}签发（信任列表第${list.get("sequence")}版，${when}）。${status[0]}${cached ? "（使用缓存的信任包）" : ""}`,
          `Signature valid: signed by ${org.get("name")} (trust list ${list.get("sequence")}, ${when}). ${status[1]}${cached ? " (cached bundle)" : ""}`,
        );
      }
    }
    return say("签名密钥不在信任列表中（可更新信任包后重试）", "The signing key is not in the trust list (update the bundle)");
  }

  async function revocation(b, org, index) {
    for (const text of b.status_lists || []) {
      const message = sign1(b64(text));
      const payload = decode(message.payload);
      if (payload.get("organization") !== org.get("code")) continue;
      for (const k of org.get("keys")) {
        const der = k.get("certificate");
        if (!equal(await kidOf(der), message.kid) || !(await verified(message, await ed25519Key(der)))) continue;
        const issued = new Date(payload.get("issued_at"));
        const maxAge = Math.min(payload.get("max_age"), 7 * 86400) * 1000;
        const bits = await gunzip(payload.get("list"));
        if (index !== undefined && index < bits.length * 8 && bits[index >> 3] & (0x80 >> (index & 7))) {
          return ["撤销状态：已撤销。", "Status: REVOKED."];
        }
        if (Date.now() > issued.getTime() + maxAge) {
          return [`撤销状态未知（状态列表签发于${payload.get("issued_at").slice(0, 10)}，已过期）。`, "Status unknown: the status list is too old."];
        }
        return ["撤销状态：未撤销。", "Status: not revoked."];
      }
    }
    return ["撤销状态未知（信任包中没有该机构的状态列表）。", "Status unknown: no status list for this organization."];
  }

  section.hidden = false;
  document.getElementById("offline-button").addEventListener("click", async () => {
    out.textContent = say("正在验证…", "Checking…");
    try {
      out.textContent = await check(section.dataset.payload);
    } catch (error) {
      out.textContent = say("无法在本机验证：", "Cannot verify here: ") + error.message;
    }
  });
})();
