/**
 * Signature benchmark: Guix narinfo verification (ECDSA over edwards25519)
 * with a cold key and with a precomputed ACL key, against libgcrypt's own
 * `gcry_pk_verify` timed in-process (python3 ctypes, same machine, same run);
 * Nix verification (noble Ed25519) against node:crypto's native Ed25519; the
 * whole check of a 1000-path `have` (parse + SHA-256 + s-expression + ECDSA
 * per narinfo); s-expression parse/print throughput.
 *
 * Usage: `./dev bench trust [--n 2000]`
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { base64Decode } from "../src/encoding/base64.ts";
import { hexEncode } from "../src/encoding/hex.ts";
import { sha256 } from "../src/hash/sha256.ts";
import { guixSignedBlock, type NarinfoContent, parseNarinfo } from "../src/narinfo/mod.ts";
import { parseSexp, printAdvanced, printCanonical } from "../src/sexp/mod.ts";
import { parseFlags } from "../src/std/cli.ts";
import {
  aclFromKeys,
  ecdsaSign,
  ecdsaVerify,
  generateGuixKey,
  generateNixSecretKey,
  guixPublicKeyFromQ,
  nixFingerprint,
  parseAcl,
  precomputePoint,
  signGuixNarinfo,
  signNixNarinfo,
  verifyGuixNarinfo,
  verifyNixNarinfo,
} from "../src/trust/mod.ts";
import { DEFAULT_GUIX_ACL } from "../src/trust/_vectors.ts";
import { Libgcrypt } from "../tests/support/libgcrypt.ts";

const { flags } = parseFlags(Deno.args, { string: ["n"] });
const N = Number(flags.n ?? "2000");

/** Runs `fn(i)` for i in [0, n) after a warm-up; returns microseconds per call (best of 3). */
function perCall(n: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(n, 200); i++) fn(i);
  let best = Infinity;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn(i);
    best = Math.min(best, (performance.now() - t0) * 1000 / n);
  }
  return best;
}

const fmt = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`);
const rate = (us: number) => `${Math.round(1e6 / us).toLocaleString("en-US")}/s`;
const rows: string[][] = [];
const row = (...cells: string[]) => rows.push(cells);

// --- Guix: one key, N signed hashes.
const key = generateGuixKey();
const hashes = Array.from({ length: N }, () => crypto.getRandomValues(new Uint8Array(32)));
const sigs = hashes.map((h) => ecdsaSign(h, key.d));
const ok = (v: boolean) => {
  if (!v) throw new Error("verification failed in the benchmark");
};

const gcryUs = await (async () => {
  await using gcry = await Libgcrypt.start();
  const h = hexEncode(hashes[0]!).toUpperCase();
  const s = sigs[0]!;
  const pad = (x: bigint) => x.toString(16).toUpperCase().padStart(64, "0");
  const reply = await gcry.request({
    op: "bench_verify",
    sig: `(sig-val (ecdsa (r #${pad(s.r)}#) (s #${pad(s.s)}#)))`,
    data: `(data (flags rfc6979) (hash sha256 #${h}#))`,
    key: key.publicKey.format(),
    count: N,
  });
  if (!reply.ok || !reply.valid) {
    throw new Error(`libgcrypt bench failed: ${JSON.stringify(reply)}`);
  }
  return (reply.seconds as number) * 1e6 / N;
})();

const coldUs = perCall(N, (i) => {
  const fresh = guixPublicKeyFromQ(key.publicKey.q); // decode the point, no table
  ok(ecdsaVerify(hashes[i]!, sigs[i]!.r, sigs[i]!.s, fresh.point));
});
const t0 = performance.now();
const acl = aclFromKeys([key.publicKey]); // builds the W=8 table for the key
const precomputeMs = performance.now() - t0;
const aclKey = acl.entries[0]!.key!;
const warmUs = perCall(N, (i) => ok(ecdsaVerify(hashes[i]!, sigs[i]!.r, sigs[i]!.s, aclKey.point)));
// The helper's batch table (src/helper/_key_tables.ts): W=6, for the key and the base point.
const t6 = performance.now();
const w6Point = precomputePoint(guixPublicKeyFromQ(key.publicKey.q).point, 6);
const precompute6Ms = performance.now() - t6;
const w6Us = perCall(N, (i) => ok(ecdsaVerify(hashes[i]!, sigs[i]!.r, sigs[i]!.s, w6Point)));
row(
  "Guix ECDSA verify, libgcrypt 1.10.1 gcry_pk_verify (baseline)",
  fmt(gcryUs),
  rate(gcryUs),
  "1.00",
);
row(
  "Guix ECDSA verify, cold key (decode point, no table: one Strauss-Shamir multiplication)",
  fmt(coldUs),
  rate(coldUs),
  (gcryUs / coldUs).toFixed(2),
);
row(
  `Guix ECDSA verify, precomputed ACL key (W=8; tables built in ${precomputeMs.toFixed(0)} ms)`,
  fmt(warmUs),
  rate(warmUs),
  (gcryUs / warmUs).toFixed(2),
);
row(
  `Guix ECDSA verify, helper batch table (W=6; built in ${precompute6Ms.toFixed(0)} ms)`,
  fmt(w6Us),
  rate(w6Us),
  (gcryUs / w6Us).toFixed(2),
);

// --- A `have` of 1000 paths: 1000 distinct narinfos, full check each.
const narinfos = Array.from({ length: 1000 }, (_, i) => {
  const hashPart = hexEncode(sha256(`p${i}`)).replace(/[eotu]/g, "0").slice(0, 32);
  const info: NarinfoContent = {
    storePath: `/gnu/store/${hashPart}-pkg-${i}`,
    narHash: "sha256:0p22aw2w80cljfc2i8bgws84bqcawjp1n16fm8kvc73s172gsj2s",
    narSize: 1000 + i,
    references: [`${hashPart}-pkg-${i}`, "47mskiwc7j6mxjg9cln8zg1hi0q5f7vq-dep-test"],
    deriver: "5wvw3cipckq1sjzajspdwya9mf6w9yi4-hello-test.drv",
    entries: [
      { url: `nar/lzip/${hashPart}-pkg-${i}`, compression: "lzip", fileSize: 900 },
      { url: `nar/zstd/${hashPart}-pkg-${i}`, compression: "zstd", fileSize: 950 },
    ],
  };
  return signGuixNarinfo(info, key, "bench");
});
const haveUs = perCall(
  1000,
  (i) => ok(verifyGuixNarinfo(parseNarinfo(narinfos[i]!), acl).kind === "valid"),
);
row(
  "Guix narinfo check (parse + SHA-256 + sexp + ECDSA), ACL key",
  fmt(haveUs),
  rate(haveUs),
  (gcryUs / haveUs).toFixed(2),
);
row("  → a `have` of 1000 paths", fmt(haveUs * 1000), "", "");

// --- Nix: noble Ed25519 vs node:crypto (native).
const nixKey = generateNixSecretKey("bench-1");
const nixInfos = narinfos.slice(0, Math.min(N, 1000)).map((t) => {
  const info = parseNarinfo(t);
  return { ...info, storePath: info.storePath, sigs: [signNixNarinfo(info, nixKey)] };
});
const spki = new Uint8Array([
  0x30,
  0x2a,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x03,
  0x21,
  0x00,
  ...nixKey.publicKey.key,
]);
const nodeKey = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
const enc = new TextEncoder();
const fps = nixInfos.map((i) => enc.encode(nixFingerprint(i, "/gnu/store")));
const raw = nixInfos.map((i) => base64Decode(i.sigs[0]!.slice("bench-1:".length)));
const nodeUs = perCall(nixInfos.length, (i) => ok(nodeVerify(null, fps[i]!, nodeKey, raw[i]!)));
const nixUs = perCall(
  nixInfos.length,
  (i) => ok(verifyNixNarinfo(nixInfos[i]!, [nixKey.publicKey]).kind === "valid"),
);
row("Nix Ed25519 verify, node:crypto native (baseline)", fmt(nodeUs), rate(nodeUs), "1.00");
row(
  "Nix narinfo check (fingerprint + noble ed25519.verify)",
  fmt(nixUs),
  rate(nixUs),
  (nodeUs / nixUs).toFixed(2),
);

// --- s-expressions.
const aclBytes = enc.encode(DEFAULT_GUIX_ACL);
const sigPayload = base64Decode(narinfos[0]!.match(/Signature: 1;bench;(.*)/)![1]!);
const parsedSig = parseSexp(sigPayload);
const parseSigUs = perCall(N, () => parseSexp(sigPayload));
const printSigUs = perCall(N, () => printAdvanced(parsedSig));
const canonSigUs = perCall(N, () => printCanonical(parsedSig));
const parseAclUs = perCall(N, () => parseAcl(aclBytes, { precompute: false }));
const mbps = (bytes: number, us: number) => `${(bytes / us).toFixed(1)} MB/s`;
row(
  `sexp parse, signature payload (${sigPayload.length} B)`,
  fmt(parseSigUs),
  mbps(sigPayload.length, parseSigUs),
  "",
);
row("sexp print advanced, same", fmt(printSigUs), mbps(sigPayload.length, printSigUs), "");
row("sexp print canonical, same", fmt(canonSigUs), "", "");
row(
  `ACL parse, 2 keys (${aclBytes.length} B, no precompute)`,
  fmt(parseAclUs),
  mbps(aclBytes.length, parseAclUs),
  "",
);

console.log(
  `# trust benchmark: ${N} signatures, Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores`,
);
console.log(`ACL key precomputation (W=8 table): ${precomputeMs.toFixed(1)} ms once per key`);
console.log(`signed block example: ${guixSignedBlock(parseNarinfo(narinfos[0]!)).length} bytes`);
console.log("");
console.log("| operation | time per call | rate | speed vs baseline |");
console.log("|---|---|---|---|");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
