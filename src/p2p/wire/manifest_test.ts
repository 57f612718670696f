import { assert, assertEquals, assertThrows } from "@std/assert";
import { createHash } from "node:crypto";
import { hexEncode } from "../../encoding/hex.ts";
import { randomBytes } from "../../../tests/support/random.ts";
import { Bitfield } from "./bitfield.ts";
import {
  blockCountFor,
  BlockHasher,
  blockRange,
  checkManifestLayout,
  groupManifests,
  isValidBlockSize,
  type Manifest,
  manifestKey,
  validateManifest,
  verifyBlock,
} from "./manifest.ts";

const BS = 16384;

/** SHA-256 straight from node:crypto, independent of src/hash. */
function refSha(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function manifestOf(nar: Uint8Array, blockSize = BS): Manifest {
  return new BlockHasher(blockSize).update(nar).finish();
}

Deno.test("block counts and ranges follow §3.3 exactly", () => {
  assertEquals(blockCountFor(0, BS), 0);
  assertEquals(blockCountFor(1, BS), 1);
  assertEquals(blockCountFor(BS, BS), 1);
  assertEquals(blockCountFor(BS + 1, BS), 2);
  assertEquals(blockCountFor(2 ** 40, 262144), 2 ** 22);
  const layout = { narSize: 3 * BS + 5, blockSize: BS, blockCount: 4 };
  assertEquals(blockRange(layout, 0), { offset: 0, length: BS });
  assertEquals(blockRange(layout, 3), { offset: 3 * BS, length: 5 });
  assertThrows(() => blockRange(layout, 4), RangeError, "block 4 out of range [0, 4)");
  assertThrows(() => blockCountFor(-1, BS), RangeError, "got -1");
  assertThrows(() => blockCountFor(1, 0), RangeError, "got 0");
  assert(isValidBlockSize(16384) && isValidBlockSize(262144) && isValidBlockSize(4194304));
  assert(!isValidBlockSize(8192) && !isValidBlockSize(8388608) && !isValidBlockSize(100000));
});

Deno.test("BlockHasher equals direct SHA-256 of the NAR and of each slice, for any chunking", () => {
  const sizes = [0, 1, BS - 1, BS, BS + 1, 2 * BS, 7 * BS + 123];
  const chunkings = [1, 7, 4093, BS, BS + 3, Infinity];
  for (const size of sizes) {
    const nar = randomBytes(size);
    const whole = refSha(nar);
    const blocks = [];
    for (let at = 0; at < size; at += BS) blocks.push(refSha(nar.subarray(at, at + BS)));
    for (const step of chunkings) {
      if (step === 1 && size > 2 * BS) continue; // byte-by-byte only on the small cases
      const hasher = new BlockHasher(BS);
      for (let at = 0; at < size; at += step) hasher.update(nar.subarray(at, at + step));
      hasher.update(new Uint8Array(0));
      assertEquals(hasher.narSize, size);
      const m = hasher.finish();
      const label = `size ${size}, chunks of ${step}`;
      assertEquals(hexEncode(m.narHash), whole, label);
      assertEquals(m.narSize, size, label);
      assertEquals(m.blockSize, BS, label);
      assertEquals(m.blockCount, blocks.length, label);
      assertEquals(m.hashes.length, 32 * blocks.length, label);
      for (let i = 0; i < blocks.length; i++) {
        assertEquals(hexEncode(m.hashes.subarray(32 * i, 32 * i + 32)), blocks[i], label);
      }
      assert(m.have.isFull && m.have.size === blocks.length, label);
      assertEquals(validateManifest(m, { narHash: m.narHash, narSize: size }), undefined);
    }
  }
});

Deno.test("BlockHasher agrees with nix-store --dump | sha256sum and split --filter=sha256sum", async () => {
  const path = "/usr/share/doc/bash"; // a real directory tree: several files, NAR > 300 KB
  const dump = await new Deno.Command("nix-store", { args: ["--dump", path], stdout: "piped" })
    .output();
  assert(dump.success, `nix-store --dump ${path} failed`);
  const nar = dump.stdout;
  const shell = async (script: string) => {
    const child = new Deno.Command("sh", {
      args: ["-c", script],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(nar);
    await writer.close();
    const out = await child.output();
    assert(out.success, script);
    return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l).map((l) =>
      l.split(" ")[0]
    );
  };
  const [whole] = await shell("sha256sum");
  const blocks = await shell(`split -b ${BS} --filter=sha256sum`);
  const hasher = new BlockHasher(BS);
  for (let at = 0; at < nar.length; at += 65536) hasher.update(nar.subarray(at, at + 65536));
  const m = hasher.finish();
  assertEquals(hexEncode(m.narHash), whole);
  assertEquals(m.blockCount, blocks.length);
  assert(m.blockCount > 10);
  blocks.forEach((h, i) => assertEquals(hexEncode(m.hashes.subarray(32 * i, 32 * i + 32)), h));
});

Deno.test("BlockHasher refuses bad block sizes and reuse", () => {
  assertThrows(() => new BlockHasher(1000), RangeError, "block size 1000");
  const h = new BlockHasher(BS);
  h.finish();
  assertThrows(() => h.update(new Uint8Array(1)), Error, "after finish");
  assertThrows(() => h.finish(), Error, "twice");
});

Deno.test("validateManifest names each broken rule", () => {
  const nar = randomBytes(3 * BS + 10);
  const m = manifestOf(nar);
  const signed = { narHash: m.narHash, narSize: nar.length };
  assertEquals(validateManifest(m, signed), undefined);
  const other = new Uint8Array(32).fill(0xab);
  assertEquals(
    validateManifest(m, { narHash: other, narSize: nar.length }),
    `NAR hash ${hexEncode(m.narHash)} differs from the signed NarHash ${hexEncode(other)}`,
  );
  assertEquals(
    validateManifest(m, { ...signed, narSize: nar.length + 1 }),
    `NAR size ${nar.length} differs from the signed NarSize ${nar.length + 1}`,
  );
  assertEquals(
    validateManifest({ ...m, blockSize: 3 * 8192 }, signed),
    "block size 24576 is not a power of two in [16384, 4194304]",
  );
  assertEquals(
    validateManifest({ ...m, blockSize: 8192 }, signed),
    "block size 8192 is not a power of two in [16384, 4194304]",
  );
  assertEquals(
    validateManifest({ ...m, blockCount: 5 }, signed),
    `block count 5 is not ceil(${nar.length} / 16384) = 4`,
  );
  assertEquals(
    validateManifest({ ...m, hashes: m.hashes.subarray(32) }, signed),
    "hash list is 96 bytes, expected 4 × 32 = 128",
  );
  assertEquals(
    validateManifest({ ...m, have: new Bitfield(3) }, signed),
    "have-bitfield has 3 bits, expected 4",
  );
  assertEquals(
    checkManifestLayout({ ...m, narHash: new Uint8Array(31) }),
    "NAR hash is 31 bytes, expected 32",
  );
});

Deno.test("manifestKey covers size, block size and hashes but not the have-bitfield", () => {
  const nar = randomBytes(2 * BS + 1);
  const m = manifestOf(nar);
  // Recomputed by hand: SHA-256(u64 narSize | u32 blockSize | hashes).
  const head = new Uint8Array(12);
  new DataView(head.buffer).setBigUint64(0, BigInt(m.narSize));
  new DataView(head.buffer).setUint32(8, m.blockSize);
  assertEquals(manifestKey(m), createHash("sha256").update(head).update(m.hashes).digest("hex"));
  assertEquals(manifestKey({ ...m, have: new Bitfield(m.blockCount) }), manifestKey(m));
  const lied = m.hashes.slice();
  lied[40]! ^= 1;
  assert(manifestKey({ ...m, hashes: lied }) !== manifestKey(m));
  assert(manifestKey({ ...m, narSize: m.narSize - 1 }) !== manifestKey(m));
  assert(manifestKey({ ...m, blockSize: 2 * BS }) !== manifestKey(m));
});

Deno.test("groupManifests: largest group first, ties in first-seen order, one vote per peer", () => {
  const nar = randomBytes(3 * BS);
  const honest = manifestOf(nar);
  const partial = { ...honest, have: new Bitfield(3) };
  const liar = { ...honest, hashes: honest.hashes.map((b, i) => (i === 0 ? b ^ 1 : b)) };
  const other = manifestOf(nar, 2 * BS);
  const groups = groupManifests([
    { peer: "liar1", manifest: liar },
    { peer: "a", manifest: honest },
    { peer: "liar1", manifest: liar },
    { peer: "liar2", manifest: liar },
    { peer: "b", manifest: partial },
    { peer: "c", manifest: honest },
    { peer: "d", manifest: other },
  ]);
  assertEquals(groups.map((g) => g.members.map((m) => m.peer)), [
    ["a", "b", "c"],
    ["liar1", "liar2"],
    ["d"],
  ]);
  assertEquals(groups[0]!.key, manifestKey(honest));
  // Each member keeps its own have-bitfield.
  assertEquals(groups[0]!.members[1]!.manifest.have.count, 0);
  assertEquals(groups[0]!.members[0]!.manifest.have.count, 3);
  assertEquals(groupManifests([]), []);
  const tie = groupManifests([{ peer: "x", manifest: other }, { peer: "y", manifest: honest }]);
  assertEquals(tie.map((g) => g.members[0]!.peer), ["x", "y"]);
});

Deno.test("verifyBlock checks length and SHA-256, and is false for bad indexes", () => {
  const nar = randomBytes(2 * BS + 100);
  const m = manifestOf(nar);
  assert(verifyBlock(m, 0, nar.subarray(0, BS)));
  assert(verifyBlock(m, 2, nar.subarray(2 * BS)));
  assert(!verifyBlock(m, 1, nar.subarray(0, BS)), "block 0's bytes are not block 1");
  const flipped = nar.slice(BS, 2 * BS);
  flipped[1000]! ^= 0x10;
  assert(!verifyBlock(m, 1, flipped));
  assert(!verifyBlock(m, 2, nar.subarray(2 * BS, 2 * BS + 99)), "short last block");
  assert(!verifyBlock(m, 3, new Uint8Array(0)));
  assert(!verifyBlock(m, -1, new Uint8Array(0)));
  assert(!verifyBlock({ ...m, hashes: m.hashes.subarray(0, 64) }, 2, nar.subarray(2 * BS)));
});
