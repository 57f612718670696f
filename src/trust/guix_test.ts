import { assert, assertEquals, assertInstanceOf, assertThrows } from "@std/assert";
import { base64Decode, base64Encode } from "../encoding/base64.ts";
import { hexDecode, hexEncode } from "../encoding/hex.ts";
import { sha256 } from "../hash/sha256.ts";
import { guixSignedBlock, parseNarinfo } from "../narinfo/mod.ts";
import { list, parseSexp, printAdvanced, printAdvancedBytes } from "../sexp/mod.ts";
import { BAYFRONT, DEFAULT_GUIX_ACL, VECTOR } from "./_vectors.ts";
import {
  aclFromKeys,
  bytesToBigInt,
  CURVE_ORDER,
  decodePoint,
  ecdsaSign,
  ecdsaVerify,
  type EdwardsPoint,
  encodePoint,
  formatAcl,
  generateGuixKey,
  GuixKeyError,
  guixPrivateKeyFromScalar,
  guixPublicKeyFromQ,
  guixSignatureLine,
  guixSignedHash,
  KEY_WINDOW,
  parseAcl,
  parseGuixPrivateKey,
  parseGuixPublicKey,
  precomputePoint,
  publicPointFromSecret,
  rfc6979Nonces,
  signGuixNarinfo,
  verifyGuixNarinfo,
  verifyGuixSignature,
} from "./mod.ts";

const big = (hex: string) => BigInt("0x" + hex);
const upperHex = (n: bigint) => n.toString(16).toUpperCase().padStart(64, "0");
const vectorKey = () => guixPrivateKeyFromScalar(big(VECTOR.d));

Deno.test("§9.2 vector: key, signed-block hash, RFC 6979 k, r, s", () => {
  const key = vectorKey();
  assertEquals(key.publicKey.hex, VECTOR.q);
  const hash = sha256(VECTOR.signedBlock);
  assertEquals(VECTOR.signedBlock.length, 304);
  assertEquals(hexEncode(hash).toUpperCase(), VECTOR.signedBlockSha256);
  assertEquals(upperHex(rfc6979Nonces(hash, key.d).next().value), VECTOR.k);
  const { r, s, k } = ecdsaSign(hash, key.d);
  assertEquals([upperHex(k), upperHex(r), upperHex(s)], [VECTOR.k, VECTOR.r, VECTOR.s]);
  assert(ecdsaVerify(hash, r, s, key.publicKey.point));
});

Deno.test("§9.2 vector: the full narinfo and the ACL are reproduced byte for byte", () => {
  const key = vectorKey();
  const info = parseNarinfo(VECTOR.narinfo);
  assertEquals(signGuixNarinfo(info, key, "test-host"), VECTOR.narinfo);
  assertEquals(formatAcl(aclFromKeys([key.publicKey])), VECTOR.acl);
  const verdict = verifyGuixNarinfo(info, parseAcl(VECTOR.acl));
  assert(verdict.kind === "valid", JSON.stringify(verdict));
  assertEquals([verdict.key.hex, verdict.host], [VECTOR.q, "test-host"]);
});

Deno.test("key files print back byte-exact", () => {
  const key = vectorKey();
  const pub = "(public-key \n (ecc \n  (curve Ed25519)\n  (q #" + VECTOR.q + "#)\n  )\n )\n";
  const sec = "(private-key \n (ecc \n  (curve Ed25519)\n  (q #" + VECTOR.q + "#)\n  (d #" +
    VECTOR.d +
    "#)\n  )\n )\n";
  assertEquals(key.publicKey.format(), pub);
  assertEquals(key.format(), sec);
  assertEquals(parseGuixPublicKey(pub).format(), pub);
  assertEquals(parseGuixPrivateKey(sec).format(), sec);
  // Any s-expression form is accepted; the parsed tree is what is printed.
  const canonical = new TextEncoder().encode("(10:public-key(3:ecc(5:curve7:Ed25519)(1:q32:");
  const bytes = new Uint8Array([...canonical, ...hexDecode(VECTOR.q), 0x29, 0x29, 0x29]);
  assertEquals(parseGuixPublicKey(bytes).format(), pub);
});

Deno.test("the real bayfront signature verifies over its hash; one changed bit fails", () => {
  const acl = parseAcl(DEFAULT_GUIX_ACL);
  const sig = parseSexp(BAYFRONT.payload);
  const hash = hexDecode(BAYFRONT.hash);
  const verdict = verifyGuixSignature(sig, hash, acl, "bayfront");
  assert(verdict.kind === "valid");
  assertEquals(verdict.key.shortHex, "7D6029…E34F");
  const key = guixPublicKeyFromQ(hexDecode(BAYFRONT.q));
  const r = big("0BA6F6893B8DA8BCFB5C1496A500081235E221BBE8D1B5BA8D7595DE26F15F14");
  const s = big("03DB9D4305AA0F477CB0382A232A71F5C2BAD8BAF10C2F5DB1C456E515209E21");
  assert(ecdsaVerify(hash, r, s, key.point));
  for (let bit = 0; bit < 256; bit += 7) {
    const flipped = hash.slice();
    flipped[bit >> 3]! ^= 1 << (bit & 7);
    assert(!ecdsaVerify(flipped, r, s, key.point), `hash bit ${bit}`);
    assert(!ecdsaVerify(hash, r ^ (1n << BigInt(bit % 250)), s, key.point), `r bit ${bit}`);
    assert(!ecdsaVerify(hash, r, s ^ (1n << BigInt(bit % 250)), key.point), `s bit ${bit}`);
  }
  const otherKey = guixPublicKeyFromQ(hexDecode(VECTOR.q));
  assert(!ecdsaVerify(hash, r, s, otherKey.point));
  // The same payload with one hex digit of the hash changed: the narinfo check says hash-mismatch.
  assertEquals(
    verifyGuixSignature(sig, hash.map((b, i) => i === 5 ? b ^ 1 : b), acl).kind,
    "hash-mismatch",
  );
});

Deno.test("every single-byte change in the signed part is rejected", () => {
  const acl = parseAcl(VECTOR.acl);
  const { signedBlock, narinfo } = VECTOR;
  const signature = parseNarinfo(narinfo).signature;
  for (let i = 0; i < signedBlock.length; i++) {
    const c = signedBlock.charCodeAt(i);
    const tampered = signedBlock.slice(0, i) + String.fromCharCode(c === 0x41 ? 0x42 : c ^ 1) +
      signedBlock.slice(i + 1);
    const verdict = verifyGuixNarinfo({ signedPrefix: tampered, signature }, acl);
    assert(
      verdict.kind === "hash-mismatch" || verdict.kind === "unsigned",
      `byte ${i}: ${verdict.kind}`,
    );
  }
});

/** Re-encodes the §9.2 narinfo's signature after `edit` rewrote its s-expression text. */
function editSignature(edit: (payload: string) => string): string {
  const payload = new TextDecoder().decode(base64Decode(VECTOR.signatureBase64));
  const b64 = base64Encode(new TextEncoder().encode(edit(payload)));
  return VECTOR.narinfo.replace(VECTOR.signatureBase64, b64);
}

Deno.test("verdicts: swapped r/s, eddsa sig-val, unknown key, other hash algorithm, corrupt fields", () => {
  const acl = parseAcl(VECTOR.acl);
  const verdict = (text: string) => verifyGuixNarinfo(parseNarinfo(text), acl);
  const swapped = editSignature((p) =>
    p.replace(VECTOR.r, "R").replace(VECTOR.s, VECTOR.r).replace("R", VECTOR.s)
  );
  assertEquals(verdict(swapped).kind, "invalid-signature");
  assertEquals(
    verdict(editSignature((p) => p.replace("(ecdsa", "(eddsa"))).kind,
    "invalid-signature",
  );
  assertEquals(verdict(editSignature((p) => p.replace("(ecdsa", "(ecc"))).kind, "valid");
  assertEquals(
    verdict(editSignature((p) => p.replace("(flags rfc6979)", "(flags)"))).kind,
    "invalid-signature",
  );
  assertEquals(
    verdict(editSignature((p) => p.replace(/\(sig-val[^]*?\n {2}\)\n/, ""))).kind,
    "invalid-signature",
  );
  const sha512 = verdict(editSignature((p) => p.replace("sha256", "sha512")));
  assert(sha512.kind === "hash-mismatch" && sha512.algorithm === "sha512");
  assertEquals(
    verdict(editSignature((p) => p.replace("(data", "(datum"))).kind,
    "corrupt-signature",
  );
  assertEquals(
    verdict(editSignature((p) => p.replace("(public-key", "(pubkey"))).kind,
    "corrupt-signature",
  );
  assertEquals(verdict(editSignature((p) => p.slice(0, -5))).kind, "corrupt-signature");
  // r and s are unsigned big-endian integers of any length (leading zeros allowed).
  assertEquals(
    verdict(editSignature((p) => p.replace(`#${VECTOR.r}#`, `#0000${VECTOR.r}#`))).kind,
    "valid",
  );

  const other = generateGuixKey();
  const unauthorized = verifyGuixNarinfo(
    parseNarinfo(VECTOR.narinfo),
    aclFromKeys([other.publicKey]),
  );
  assert(unauthorized.kind === "unauthorized-key");
  assertEquals(printAdvanced(unauthorized.key), printAdvanced(vectorKey().publicKey.sexp));
  // An extra (flags …) element makes the key a different key for the ACL.
  const flagged = parseSexp(`(public-key (ecc (curve Ed25519) (flags rfc6979) (q #${VECTOR.q}#)))`);
  assertEquals(
    verifyGuixNarinfo(parseNarinfo(VECTOR.narinfo), aclFromKeys([flagged])).kind,
    "unauthorized-key",
  );

  const withSig = (value: string) =>
    VECTOR.narinfo.replace(/Signature: .*\n/, `Signature: ${value}\n`);
  for (
    const bad of ["2;test-host;KGEp", "1;test-host", "1;a;b;KGEp", "1;h;not base64!", "1;h;KGE="]
  ) {
    const v = verdict(withSig(bad));
    assert(v.kind === "corrupt-signature", `${bad}: ${v.kind}`);
  }
  const noSig = verifyGuixNarinfo(parseNarinfo(VECTOR.narinfo.replace(/Signature: .*\n/, "")), acl);
  assertEquals(noSig, { kind: "unsigned", reason: "no Signature field" });
  const lacking = verdict(
    VECTOR.narinfo.replace(/References: .*\n/, "").replace("URL:", "References: \nURL:"),
  );
  assertEquals(lacking, { kind: "unsigned", reason: "the signed part lacks References" });
});

Deno.test("both narinfo layouts verify; the old layout signs the URLs too", () => {
  const key = generateGuixKey();
  const acl = aclFromKeys([key.publicKey]);
  const info = {
    ...parseNarinfo(VECTOR.narinfo),
    system: "x86_64-linux",
    entries: [
      {
        url: "nar/lzip/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test",
        compression: "lzip",
        fileSize: 900,
      },
      {
        url: "nar/zstd/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test",
        compression: "zstd",
        fileSize: 950,
      },
    ],
  };
  for (const layout of ["publish", "old"] as const) {
    const text = signGuixNarinfo(info, key, "h", layout);
    const parsed = parseNarinfo(text);
    assertEquals(parsed.entries, info.entries);
    assertEquals(verifyGuixNarinfo(parsed, acl).kind, "valid", layout);
    const moved = text.replace("nar/zstd/", "nar/zstdX/");
    assertEquals(
      verifyGuixNarinfo(parseNarinfo(moved), acl).kind,
      layout === "old" ? "hash-mismatch" : "valid",
    );
  }
  const signed = signGuixNarinfo(info, key, "h");
  const block = guixSignedBlock(info);
  assertEquals(signed.slice(0, signed.indexOf("URL:")), block + guixSignatureLine(block, key, "h"));
  assertEquals(
    guixSignedHash(parseNarinfo(signed)),
    sha256(signed.slice(0, signed.indexOf("Signature:"))),
  );
});

Deno.test("generated keys are clamped like libgcrypt's and sign/verify", () => {
  for (let i = 0; i < 20; i++) {
    const key = generateGuixKey();
    assertEquals(key.d >> 254n, 1n);
    assertEquals(key.d & 7n, 0n);
    assert(key.d > CURVE_ORDER);
    const hash = crypto.getRandomValues(new Uint8Array(32));
    const { r, s } = ecdsaSign(hash, key.d);
    assert(ecdsaVerify(hash, r, s, parseGuixPublicKey(key.publicKey.format()).point));
    assert(!ecdsaVerify(hash, s, r, key.publicKey.point));
  }
});

Deno.test("ECDSA guards: zero and out-of-range scalars, zero hash", () => {
  const key = vectorKey();
  const hash = sha256("x");
  const { r, s } = ecdsaSign(hash, key.d);
  const q = key.publicKey.point;
  for (
    const [rr, ss] of [[0n, s], [r, 0n], [CURVE_ORDER, s], [r, CURVE_ORDER], [r + CURVE_ORDER, s], [
      -r,
      s,
    ]]
  ) {
    assert(!ecdsaVerify(hash, rr!, ss!, q));
  }
  assertThrows(() => publicPointFromSecret(0n), RangeError);
  assertThrows(() => publicPointFromSecret(CURVE_ORDER), RangeError);
  assertThrows(() => ecdsaSign(hash, CURVE_ORDER * 2n), RangeError);
  const zero = new Uint8Array(32); // e = 0, so u1 = 0: the G term is the identity.
  const z = ecdsaSign(zero, key.d);
  assert(ecdsaVerify(zero, z.r, z.s, q));
  // A secret d ≥ n is used as stored for the nonce: d and d mod n give different signatures.
  assert(ecdsaSign(hash, key.d % CURVE_ORDER).r !== r);
});

Deno.test("Guix key parsing rejects other shapes, naming the problem", () => {
  const q = VECTOR.q;
  const cases: [string, string][] = [
    [`(private-key (ecc (curve Ed25519) (q #${q}#)))`, "expected a (public-key ...) list"],
    [`(public-key (rsa (n #00#) (e #03#)))`, "expected (ecc ...)"],
    [`(public-key (ecc (curve Ed448) (q #${q}#)))`, 'unsupported curve "Ed448"'],
    [`(public-key (ecc (curve ed25519) (q #${q}#)))`, 'unsupported curve "ed25519"'],
    [
      `(public-key (ecc (curve Ed25519) (flags eddsa) (q #${q}#)))`,
      "(flags eddsa) marks an EdDSA key",
    ],
    [`(public-key (ecc (curve Ed25519)))`, "missing (q #…#)"],
    [`(public-key (ecc (q #${q}#)))`, "missing (curve Ed25519)"],
    [
      `(public-key (ecc (curve Ed25519) (q #${q.slice(2)}#)))`,
      "q must be a 32-byte point encoding, got 31 bytes",
    ],
    [`(public-key (ecc (curve Ed25519) (q #${q}#) (q #${q}#)))`, "duplicate (q ...)"],
    [`(public-key (ecc (curve Ed25519) (q #${q}#) (d #01#)))`, "unexpected parameter (d #01#)"],
    [`(public-key (ecc (curve Ed25519) (q #${q}#)) extra)`, "exactly one (ecc ...) list"],
    [
      `(public-key (ecc (curve Ed25519) (q #${"02" + "00".repeat(31)}#)))`,
      "q is not a point of edwards25519",
    ],
    [`(public-key (ecc (curve Ed25519) (q`, 's-expression: byte 35: expected ")"'],
  ];
  for (const [text, message] of cases) {
    const e = assertThrows(() => parseGuixPublicKey(text), GuixKeyError, message);
    assert(
      e.message.startsWith("Guix key: public key: ") || e.message.startsWith("Guix key: "),
      e.message,
    );
  }
  // libgcrypt's 0x40-prefixed point encoding is accepted.
  assertEquals(parseGuixPublicKey(`(public-key (ecc (curve Ed25519) (q #40${q}#)))`).hex, q);
  const sec = (d: string, qq = q) => `(private-key (ecc (curve Ed25519) (q #${qq}#) (d #${d}#)))`;
  assertThrows(() => parseGuixPrivateKey(sec("01")), GuixKeyError, "is not d·G");
  assertThrows(
    () => parseGuixPrivateKey(`(private-key (ecc (curve Ed25519) (q #${q}#)))`),
    GuixKeyError,
    "missing (d",
  );
  assertThrows(() => parseGuixPrivateKey(sec("00")), GuixKeyError, "d is 0 modulo n");
  assertEquals(parseGuixPrivateKey(sec(VECTOR.d)).d, big(VECTOR.d));
});

Deno.test("ACL: strict shape, byte-exact printing, structural key equality", () => {
  const acl = parseAcl(DEFAULT_GUIX_ACL);
  assertEquals(acl.entries.map((e) => e.key?.shortHex), ["8D156F…B394", "7D6029…E34F"]);
  assertEquals(formatAcl(acl), DEFAULT_GUIX_ACL);
  // Formatting does not matter, structure does.
  const compact = parseAcl(
    `(acl (entry (public-key (ecc (curve "Ed25519") (q |${
      base64Encode(hexDecode(BAYFRONT.q))
    }|))) (tag (guix import))))`,
  );
  assert(compact.authorize(parseSexp(BAYFRONT.payload).items[3]!));
  assertEquals(formatAcl(parseAcl("(acl)")), "(acl)\n");
  // Keys of other types are kept (authorized by equality) but not verifiable.
  const rsa = parseAcl(
    "(acl (entry (public-key (rsa (n #00C1#) (e #010001#))) (tag (guix import))))",
  );
  assertEquals(rsa.entries[0]!.key, undefined);

  const bad: [string, string][] = [
    ["(acls)", 'expected the list to start with "acl", found (acls)'],
    ["(acl (entry))", "entry 1: expected 2 elements"],
    ["(acl x)", "entry 1: expected (entry <public-key> (tag (guix import))), found (x)"],
    [
      `(acl (entry (public-key (ecc)) (tag (guix import))) (entry (pk) (tag (guix import))))`,
      "entry 2: expected a (public-key ...) list",
    ],
    [
      `(acl (entry (public-key (ecc)) (tag (guix export))))`,
      "entry 1: expected (tag (guix import)), found (tag (guix export))",
    ],
    [
      `(acl (entry (public-key (ecc)) (tag (guix import) x)))`,
      "entry 1: expected (tag (guix import))",
    ],
    [`(acl (entry (public-key (ecc)) (tag (guix import)) (x)))`, "entry 1: expected 2 elements"],
    ["(acl (entry", "invalid access-control list: s-expression: byte 11"],
  ];
  for (const [text, message] of bad) {
    const e = assertThrows(() => parseAcl(text), Error, message);
    assertEquals(e.name, "AclError");
  }
});

Deno.test("signing refuses hosts and texts that would break the field", () => {
  const key = vectorKey();
  const info = parseNarinfo(VECTOR.narinfo);
  for (const host of ["a;b", "a\nb"]) {
    const e = assertThrows(() => signGuixNarinfo(info, key, host));
    assertEquals(e.name, "GuixSignatureError");
  }
  const e = assertThrows(() => signGuixNarinfo({ ...info, system: "Signature: x" }, key, "h"));
  assertInstanceOf(e, Error);
  assert(e.message.includes('contains "Signature:"'), e.message);
  assertEquals(printAdvancedBytes(list("a")).length, 4);
  assertEquals(bytesToBigInt(new Uint8Array()), 0n);
});

Deno.test("keys with W=6 and W=8 tables and keys without one give the same verdicts", () => {
  const copies = (point: EdwardsPoint) => {
    const plain = () => decodePoint(encodePoint(point));
    return [plain(), precomputePoint(plain(), 6), precomputePoint(plain(), KEY_WINDOW)];
  };
  const bayfront = copies(guixPublicKeyFromQ(hexDecode(BAYFRONT.q)).point);
  const hash = hexDecode(BAYFRONT.hash);
  const r = big("0BA6F6893B8DA8BCFB5C1496A500081235E221BBE8D1B5BA8D7595DE26F15F14");
  const s = big("03DB9D4305AA0F477CB0382A232A71F5C2BAD8BAF10C2F5DB1C456E515209E21");
  assertEquals(bayfront.map((q) => ecdsaVerify(hash, r, s, q)), [true, true, true]);
  assertEquals(bayfront.map((q) => ecdsaVerify(hash, r, s + 1n, q)), [false, false, false]);
  for (let i = 0; i < 4; i++) {
    const key = generateGuixKey();
    const qs = copies(key.publicKey.point);
    // i = 0: the zero hash (u1 = 0, the base-point term is the identity).
    const h = i === 0 ? new Uint8Array(32) : crypto.getRandomValues(new Uint8Array(32));
    const sig = ecdsaSign(h, key.d);
    assertEquals(qs.map((q) => ecdsaVerify(h, sig.r, sig.s, q)), [true, true, true]);
    const other = h.map((b, j) => j === i ? b ^ 0x80 : b);
    assertEquals(qs.map((q) => ecdsaVerify(other, sig.r, sig.s, q)), [false, false, false]);
    assertEquals(qs.map((q) => ecdsaVerify(h, sig.s, sig.r, q)), [false, false, false]);
  }
});
