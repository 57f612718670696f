import { assert, assertEquals, assertThrows } from "@std/assert";
import { base64Encode } from "../encoding/base64.ts";
import { formatNixNarinfo, parseNarinfo } from "../narinfo/mod.ts";
import { NIX_EXAMPLE, NIX_EXAMPLE_KEY } from "./_vectors.ts";
import {
  generateNixSecretKey,
  nixFingerprint,
  NixKeyError,
  nixSecretKeyFromSeed,
  parseNixPublicKey,
  parseNixSecretKey,
  signNixNarinfo,
  verifyNixNarinfo,
} from "./mod.ts";

const TEST_1 = parseNixPublicKey(NIX_EXAMPLE_KEY);

Deno.test("the fingerprint of the documented example, and its real Nix signature", () => {
  const info = parseNarinfo(NIX_EXAMPLE, { flavour: "nix" });
  assertEquals(
    nixFingerprint(info, "/nix/store"),
    "1;/nix/store/zqcaz08bi11gprc39cw11q7g177csdga-top;" +
      "sha256:0zx2zar1x03zckxwxwlhkspgiv3sg6x6mibriiia13bsqfg3wsrn;768;" +
      "/nix/store/5qn9lblnzjgza2vb23kwaclrcxnska2z-dep,/nix/store/xglgicngsyrdq9w7r3i4gd4d12mq2x5a-tree",
  );
  assertEquals(verifyNixNarinfo(info, [TEST_1]), { kind: "valid", keyName: "test-1" });
  // The fingerprint sorts references, normalises NarHash and ignores unsigned fields.
  const reordered = NIX_EXAMPLE.replace(
    "5qn9lblnzjgza2vb23kwaclrcxnska2z-dep xglgicngsyrdq9w7r3i4gd4d12mq2x5a-tree",
    "xglgicngsyrdq9w7r3i4gd4d12mq2x5a-tree 5qn9lblnzjgza2vb23kwaclrcxnska2z-dep",
  ).replace("Compression: xz", "Compression: none").replace(/Deriver: .*\n/, "");
  assertEquals(
    verifyNixNarinfo(parseNarinfo(reordered, { flavour: "nix" }), [TEST_1]).kind,
    "valid",
  );
  const sri = NIX_EXAMPLE.replace(
    "sha256:0zx2zar1x03zckxwxwlhkspgiv3sg6x6mibriiia13bsqfg3wsrn",
    "sha256-" + base64Encode(info.narHashDigest),
  );
  assertEquals(verifyNixNarinfo(parseNarinfo(sri, { flavour: "nix" }), [TEST_1]).kind, "valid");
});

Deno.test("verdicts: tampered fingerprint fields, other keys, no Sig, corrupt Sig", () => {
  const info = parseNarinfo(NIX_EXAMPLE, { flavour: "nix" });
  const other = generateNixSecretKey("test-1").publicKey; // same name, other key
  assertEquals(verifyNixNarinfo(info, [other]), { kind: "invalid-signature", keyName: "test-1" });
  assertEquals(verifyNixNarinfo(info, [other, TEST_1]).kind, "valid");
  const stranger = generateNixSecretKey("cache-2").publicKey;
  assertEquals(verifyNixNarinfo(info, [stranger]), {
    kind: "unauthorized-key",
    keyNames: ["test-1"],
  });
  assertEquals(verifyNixNarinfo(info, [stranger], "/gnu/store").kind, "unauthorized-key");
  assertEquals(verifyNixNarinfo(info, [TEST_1], "/gnu/store").kind, "invalid-signature");
  const tampered = [
    { ...info, storePath: "/nix/store/zqcaz08bi11gprc39cw11q7g177csdgb-top" },
    { ...info, narHash: "sha256:1zx2zar1x03zckxwxwlhkspgiv3sg6x6mibriiia13bsqfg3wsrn" },
    { ...info, narSize: 769 },
    { ...info, references: info.references.slice(1) },
    { ...info, references: [...info.references, "03x4lblnzjgza2vb23kwaclrcxnska2z-x"] },
  ];
  for (const t of tampered) assertEquals(verifyNixNarinfo(t, [TEST_1]).kind, "invalid-signature");
  assertEquals(verifyNixNarinfo({ ...info, sigs: [] }, [TEST_1]), { kind: "unsigned" });
  assertEquals(verifyNixNarinfo({ ...info, sigs: ["test-1:AAAA"] }, [TEST_1]), {
    kind: "corrupt-signature",
    keyName: "test-1",
    reason: "signature is 3 bytes, expected 64",
  });
  assertEquals(
    verifyNixNarinfo({ ...info, sigs: ["test-1:!!"] }, [TEST_1]).kind,
    "corrupt-signature",
  );
  // A corrupt Sig does not hide a valid one.
  assertEquals(
    verifyNixNarinfo({ ...info, sigs: ["test-1:AAAA", ...info.sigs] }, [TEST_1]).kind,
    "valid",
  );
  // CA narinfos are not trusted without a signature.
  const ca = parseNarinfo(NIX_EXAMPLE.replace(/Sig: .*\n/, "CA: fixed:r:sha256:x\n"), {
    flavour: "nix",
  });
  assertEquals([ca.ca, verifyNixNarinfo(ca, [TEST_1]).kind], ["fixed:r:sha256:x", "unsigned"]);
});

Deno.test("signing is deterministic and round-trips through the Nix layout", () => {
  const key = nixSecretKeyFromSeed("k-1", new Uint8Array(32).fill(7));
  const info = parseNarinfo(NIX_EXAMPLE, { flavour: "nix" });
  const sig = signNixNarinfo(info, key);
  assertEquals(sig, signNixNarinfo(info, key));
  assert(sig.startsWith("k-1:") && sig.length === 4 + 88);
  const text = formatNixNarinfo({ ...info, sigs: [...info.sigs, sig] });
  const parsed = parseNarinfo(text, { flavour: "nix" });
  assertEquals(verifyNixNarinfo(parsed, [key.publicKey]), { kind: "valid", keyName: "k-1" });
  assertEquals(parseNixSecretKey(key.format() + "\n").publicKey.format(), key.publicKey.format());
});

Deno.test("Nix key parsing names the problem", () => {
  const sk = generateNixSecretKey("a");
  const cases: [() => unknown, string][] = [
    [() => parseNixPublicKey("nokey"), 'no ":" in "nokey"'],
    [() => parseNixPublicKey(":AAAA"), 'invalid key name ""'],
    [() => parseNixPublicKey("a b:AAAA"), 'invalid key name "a b"'],
    [() => parseNixPublicKey("a:AAAA"), 'public key "a" is 3 bytes, expected 32'],
    [() => parseNixPublicKey("a:!!"), 'public key "a": base64'],
    [() => parseNixSecretKey(sk.publicKey.format()), 'secret key "a" is 32 bytes, expected 64'],
    [
      () => parseNixSecretKey(`a:${base64Encode(new Uint8Array(64))}`),
      'secret key "a": its public half does not match its seed',
    ],
  ];
  for (const [fn, message] of cases) assertThrows(fn, NixKeyError, message);
});
