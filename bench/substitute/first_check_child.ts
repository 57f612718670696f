/**
 * What the helper's first signature check costs in a fresh process, split
 * into the parts that live outside the helper (`bench/substitute/_startup.ts` runs it
 * several times and reports medians): loading Deno's `node:crypto` polyfill
 * (src/hash/sha256.ts and src/trust/ecdsa.ts import it) and hashing once;
 * loading `@noble/curves`; the first multiplication of the base point with
 * the W=8 window table that src/trust/ecdsa.ts attaches to it (built on first
 * use), against a multiplication without a table; the same with the table
 * built (steady state).
 *
 * Prints one JSON object of milliseconds.
 *
 * @example
 * ```sh
 * deno run -A bench/substitute/first_check_child.ts
 * ```
 * @module
 */
const now = () => performance.now();
const ms: Record<string, number> = {};
let t = now();
const { createHash } = await import("node:crypto");
createHash("sha256").update(new Uint8Array(1000)).digest();
ms.nodeCryptoFirstHash = now() - t;
t = now();
const { ed25519 } = await import("@noble/curves/ed25519.js");
ms.importNoble = now() - t;
const P = ed25519.Point;
const k = 0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdn % P.Fn.ORDER;
const copy = () => new P(P.BASE.X, P.BASE.Y, P.BASE.Z, P.BASE.T);
t = now();
copy().multiplyUnsafe(k);
ms.firstMulNoTable = now() - t;
const tabled = copy().precompute(8);
t = now();
tabled.multiplyUnsafe(k);
ms.firstMulW8Table = now() - t;
t = now();
for (let i = 1n; i <= 10n; i++) tabled.multiplyUnsafe(k + i);
ms.laterMulW8Table = (now() - t) / 10;
console.log(JSON.stringify(ms));
