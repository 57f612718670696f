/**
 * Hostile input for the block-exchange frame decoder (docs/protocol.md §3):
 * random garbage, mutations of valid frames, oversized lengths, absurd counts
 * and invalid UTF-8. For every input the decoder must either throw a
 * `WireError` or return messages that are valid (they re-encode to exactly the
 * bytes they came from), never crash otherwise, and never hold more than one
 * `maxMessageSize` frame plus the chunk being pushed.
 *
 * Deterministic: seeded PRNG; a failure message names the seed and case.
 */
import { concatBytes } from "../src/encoding/bytes.ts";
import { assert, assertEquals, assertLessOrEqual, assertThrows } from "@std/assert";
import { Bitfield } from "../src/p2p/wire/bitfield.ts";
import { BlockHasher, checkManifestLayout } from "../src/p2p/wire/manifest.ts";
import {
  type Accept,
  encodeFrame,
  FrameDecoder,
  WireError,
  type WireMessage,
} from "../src/p2p/wire/mod.ts";
import { mulberry32 } from "./support/random.ts";

/** A seeded source of floats, integers and bytes. */
function prng(seed: number) {
  const next = mulberry32(seed);
  const int = (n: number) => Math.floor(next() * n);
  const bytes = (n: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = int(256);
    return out;
  };
  return { next, int, bytes };
}

type Rng = ReturnType<typeof prng>;

function validMessages(rng: Rng): WireMessage[] {
  const hash = rng.bytes(32);
  const nar = rng.bytes(16384 * 3 + rng.int(16384));
  const manifest = new BlockHasher(16384).update(nar).finish();
  manifest.have.clear(1);
  const small = new BlockHasher(16384).update(rng.bytes(10)).finish();
  small.have = new Bitfield(1);
  const data = rng.bytes(rng.int(3000));
  return [
    { kind: "get-manifest", id: rng.int(2 ** 32), narHash: hash },
    { kind: "manifest", id: 1, manifest },
    { kind: "manifest", id: 2, manifest: small },
    {
      kind: "get-blocks",
      id: 3,
      narHash: hash,
      indexes: Array.from({ length: 1 + rng.int(256) }, () => rng.int(2 ** 32)),
    },
    { kind: "block", id: 4, index: 9, encoding: "raw", rawLength: data.length, data },
    { kind: "block", id: 5, index: 2, encoding: "zstd", rawLength: 262144, data },
    { kind: "not-found", id: 6, narHash: hash },
    { kind: "error", id: 7, code: "busy", message: "überlastet, bitte später ☕" },
    { kind: "cancel", id: 8, indexes: [rng.int(100), rng.int(100)] },
  ];
}

interface Outcome {
  messages: number;
  error: WireError | undefined;
  maxBuffered: number;
}

/**
 * Feeds `bytes` in random chunks; checks that every message re-encodes to its own bytes,
 * that only WireErrors are thrown, and that the buffer stays bounded.
 */
function decodeChecked(
  bytes: Uint8Array,
  rng: Rng,
  options: { maxMessageSize: number; accept: Accept; maxChunk: number },
  label: string,
): Outcome {
  const d = new FrameDecoder(options);
  let messages = 0;
  let maxBuffered = 0;
  try {
    for (let at = 0; at < bytes.length;) {
      const n = 1 + rng.int(options.maxChunk);
      const chunk = bytes.subarray(at, at + n);
      at += chunk.length;
      d.push(chunk);
      maxBuffered = Math.max(maxBuffered, d.buffered);
      assertLessOrEqual(d.buffered, options.maxMessageSize + 4 + chunk.length, label);
      for (;;) {
        const start = d.offset;
        const m = d.next();
        if (m === undefined) break;
        messages++;
        assertEquals(encodeFrame(m), bytes.subarray(start, d.offset), `${label}: re-encoding`);
        if (m.kind === "manifest") assertEquals(checkManifestLayout(m.manifest), undefined, label);
      }
    }
    d.end();
    return { messages, error: undefined, maxBuffered };
  } catch (e) {
    if (e instanceof WireError) return { messages, error: e, maxBuffered };
    throw new Error(`${label}: not a WireError: ${e}`, { cause: e });
  }
}

function mutate(bytes: Uint8Array, rng: Rng): Uint8Array {
  let out: Uint8Array = bytes.slice();
  const edits = 1 + rng.int(3);
  for (let e = 0; e < edits; e++) {
    const at = rng.int(Math.max(out.length, 1));
    switch (rng.int(7)) {
      case 0: // flip one bit
        if (out.length) out[at]! ^= 1 << rng.int(8);
        break;
      case 1: // random byte
        if (out.length) out[at] = rng.int(256);
        break;
      case 2: // truncate
        out = out.subarray(0, at);
        break;
      case 3: // extend with garbage
        out = concatBytes([out, rng.bytes(1 + rng.int(64))]);
        break;
      case 4: // delete a run
        out = concatBytes([out.subarray(0, at), out.subarray(at + 1 + rng.int(8))]);
        break;
      case 5: // insert a run
        out = concatBytes([out.subarray(0, at), rng.bytes(1 + rng.int(8)), out.subarray(at)]);
        break;
      default: { // overwrite a 32-bit field with an interesting value
        const values = [0, 1, 255, 256, 257, 0x7fffffff, 0xffffffff, rng.int(2 ** 32)];
        const v = values[rng.int(values.length)]!;
        if (at + 4 <= out.length) new DataView(out.buffer, out.byteOffset).setUint32(at, v);
      }
    }
  }
  return out;
}

Deno.test("mutated valid frames: WireError or re-encodable messages, never anything else", () => {
  const accepts: Accept[] = ["any", "requests", "responses"];
  let errors = 0;
  let decoded = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const rng = prng(seed);
    const frames = validMessages(rng).map((m) => encodeFrame(m));
    // Unmutated, the corpus decodes completely.
    const clean = decodeChecked(concatBytes(frames), rng, {
      maxMessageSize: 1 << 20,
      accept: "any",
      maxChunk: 5000,
    }, `seed ${seed} clean`);
    assertEquals([clean.messages, clean.error], [frames.length, undefined]);
    for (let round = 0; round < 100; round++) {
      const picked = Array.from({ length: 1 + rng.int(3) }, () => frames[rng.int(frames.length)]!);
      const input = mutate(concatBytes(picked), rng);
      const outcome = decodeChecked(input, rng, {
        maxMessageSize: rng.int(4) === 0 ? 64 + rng.int(4096) : 1 << 20,
        accept: accepts[rng.int(3)]!,
        maxChunk: 1 + rng.int(2000),
      }, `seed ${seed} round ${round}`);
      if (outcome.error) errors++;
      decoded += outcome.messages;
    }
  }
  // Both outcomes occur: the mutations are neither all fatal nor all harmless.
  assert(errors > 1000, `${errors} errors`);
  assert(decoded > 500, `${decoded} messages decoded`);
});

Deno.test("100 MB of garbage: only WireErrors, buffer never above maxMessageSize + chunk", () => {
  const rng = prng(0xbadc0de);
  const pool = rng.bytes(1 << 20); // garbage is drawn from a random pool at random offsets
  const chunkSize = 65536;
  const max = 8 * 1024 * 1024; // the default
  let decoder = new FrameDecoder();
  let errors = 0;
  let maxBuffered = 0;
  let plausible = 0;
  for (let sent = 0; sent < 100 * 1024 * 1024; sent += chunkSize) {
    const at = rng.int(pool.length - chunkSize);
    const chunk = pool.slice(at, at + chunkSize);
    // Half the time a fresh decoder gets a believable header (version 2, known type, large
    // length), so that bodies of up to max bytes are buffered and then parsed.
    if (decoder.buffered === 0 && rng.int(2) === 0) {
      new DataView(chunk.buffer).setUint32(0, max - rng.int(1 << 20));
      chunk[4] = 2;
      chunk[5] = 1 + rng.int(11);
      plausible++;
    }
    try {
      decoder.push(chunk);
      maxBuffered = Math.max(maxBuffered, decoder.buffered);
      while (decoder.next() !== undefined) { /* messages from garbage are allowed */ }
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      errors++;
      decoder = new FrameDecoder(); // the stream is reset; a new one starts
    }
    assertLessOrEqual(decoder.buffered, max + 4 + chunkSize);
  }
  assertLessOrEqual(maxBuffered, max + 4 + chunkSize);
  assert(maxBuffered > max / 2, "some garbage frames were buffered to near the limit");
  assert(errors > plausible / 2, `${errors} errors for ${plausible} plausible headers`);
});

Deno.test("a frame at the size limit trickled in small chunks stays bounded", () => {
  const max = 1 << 20;
  const d = new FrameDecoder({ maxMessageSize: max });
  const header = new Uint8Array([0, 0x10, 0, 0, 2, 4]); // length = max, BLOCK
  d.push(header);
  let peak = 0;
  const chunk = new Uint8Array(1000);
  for (let sent = 6; sent < 4 + max; sent += chunk.length) {
    const piece = chunk.subarray(0, Math.min(chunk.length, 4 + max - sent));
    d.push(piece);
    peak = Math.max(peak, d.buffered);
    if (sent + piece.length < 4 + max) assertEquals(d.next(), undefined);
  }
  assertEquals(peak, 4 + max);
  assertThrows(() => d.next(), WireError, "raw block data is"); // raw_length 0 vs data
});

Deno.test("oversized length prefixes throw from the 4 header bytes alone", () => {
  for (const max of [64, 8 * 1024 * 1024]) {
    for (const length of [max + 1, 2 ** 31, 2 ** 32 - 1]) {
      const d = new FrameDecoder({ maxMessageSize: max });
      const prefix = new Uint8Array(4);
      new DataView(prefix.buffer).setUint32(0, length);
      assertThrows(
        () => d.push(prefix),
        WireError,
        `frame length ${length} exceeds max_message_size ${max}`,
      );
      assertEquals(d.buffered, 0);
    }
    const ok = new FrameDecoder({ maxMessageSize: max });
    const prefix = new Uint8Array([0, 0, 0, 0, 2, 3]);
    new DataView(prefix.buffer).setUint32(0, max);
    ok.push(prefix);
    assertEquals(ok.next(), undefined, "a frame of exactly max waits for its body");
  }
});

/** A frame with a hand-made body. */
function frame(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(10 + body.length);
  new DataView(out.buffer).setUint32(0, 6 + body.length);
  out[4] = 2;
  out[5] = type;
  out.set(body, 10);
  return out;
}

function fields(...parts: [number, number | bigint][]): Uint8Array {
  const size = parts.reduce((n, [w]) => n + w, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let at = 0;
  for (const [width, value] of parts) {
    if (width === 1) v.setUint8(at, Number(value));
    if (width === 2) v.setUint16(at, Number(value));
    if (width === 4) v.setUint32(at, Number(value));
    if (width === 8) v.setBigUint64(at, BigInt(value));
    if (width === 32) out.fill(Number(value), at, at + 32);
    at += width;
  }
  return out;
}

Deno.test("absurd counts and sizes are WireErrors, never allocations of their size", () => {
  const before = Deno.memoryUsage().rss;
  const cases: [Uint8Array, string][] = [
    [frame(3, fields([32, 1], [4, 0xffffffff])), "count 4294967295 is not in 1..256"],
    [frame(3, fields([32, 1], [4, 0x10000], [4, 1])), "count 65536 is not in 1..256"],
    [frame(7, fields([4, 0x7fffffff])), "count 2147483647 is not in 1..256"],
    [frame(7, fields([4, 256])), "0 bytes for 256 indexes, expected 1024"],
    [
      frame(2, fields([32, 1], [8, 0xffffffffn * 16384n], [4, 16384], [4, 0xffffffff], [1, 0])),
      "expected 536870912 (bitfield) + 4294967295 × 32 (hashes) = 137975824352",
    ],
    [
      frame(2, fields([32, 1], [8, 2n ** 53n - 1n], [4, 16384], [4, 0xffffffff])),
      "block_count 4294967295 is not ceil(nar_size 9007199254740991 / block_size 16384)",
    ],
    [frame(2, fields([32, 1], [8, 2n ** 64n - 1n])), "nar_size 18446744073709551615 exceeds"],
    [frame(4, fields([4, 0], [1, 1], [4, 0xffffffff])), "raw_length 4294967295 exceeds"],
    [frame(4, fields([4, 0], [1, 0], [4, 4194304])), "raw block data is 0 bytes"],
  ];
  for (const [bytes, text] of cases) {
    const d = new FrameDecoder();
    d.push(bytes);
    assertThrows(() => d.next(), WireError, text);
  }
  const grown = Deno.memoryUsage().rss - before;
  assertLessOrEqual(grown, 32 * 1024 * 1024, `RSS grew by ${grown}`);
});

Deno.test("invalid UTF-8 in ERROR messages is a WireError; valid UTF-8 survives exactly", () => {
  const invalid = [
    [0x80], // lone continuation byte
    [0xc0, 0xaf], // overlong "/"
    [0xe0, 0x80, 0xaf], // overlong
    [0xed, 0xa0, 0x80], // UTF-16 surrogate
    [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
    [0xe2, 0x82], // truncated sequence
    [0xff],
    [0x41, 0xfe, 0x42],
  ];
  for (const bytes of invalid) {
    const d = new FrameDecoder();
    d.push(frame(6, new Uint8Array([0, 4, ...bytes])));
    assertThrows(() => d.next(), WireError, "ERROR: message is not valid UTF-8");
  }
  for (const text of ["", "\uFEFFbom kept", "\u{10FFFF}", "\0nul", "日本語"]) {
    const bytes = new TextEncoder().encode(text);
    const d = new FrameDecoder();
    d.push(frame(6, new Uint8Array([0, 4, ...bytes])));
    const m = d.next();
    assert(m?.kind === "error");
    assertEquals(m.message, text);
    assertEquals(encodeFrame(m).subarray(12), bytes);
  }
});
