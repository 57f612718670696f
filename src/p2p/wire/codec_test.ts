import { assert, assertEquals, assertThrows } from "@std/assert";
import { randomBytes } from "../../../tests/support/random.ts";
import { Bitfield } from "./bitfield.ts";
import { BlockHasher, type Manifest } from "./manifest.ts";
import {
  BLOCK_HEADER_SIZE,
  decodeFrame,
  encodeBlockHeader,
  encodeFrame,
  encodeFrameParts,
  FrameDecoder,
  type WireMessage,
} from "./mod.ts";
import { WireError } from "./errors.ts";
import { concatBytes } from "../../encoding/bytes.ts";

const hashA = new Uint8Array(32).fill(0xaa);

function manifestWith(narSize: number, blockSize: number, have: "none" | "all" | "odd"): Manifest {
  const m = new BlockHasher(blockSize).update(randomBytes(narSize)).finish();
  if (have === "none") m.have = new Bitfield(m.blockCount);
  if (have === "odd") { for (let i = 0; i < m.blockCount; i += 2) m.have.clear(i); }
  return m;
}

/** Every message kind, with edge cases. */
function corpus(): WireMessage[] {
  const big = randomBytes(4 * 1024 * 1024);
  return [
    { kind: "get-manifest", id: 0, narHash: hashA },
    { kind: "get-manifest", id: 0xffffffff, narHash: randomBytes(32) },
    { kind: "manifest", id: 1, manifest: manifestWith(0, 16384, "all") },
    { kind: "manifest", id: 2, manifest: manifestWith(1, 16384, "all") },
    { kind: "manifest", id: 3, manifest: manifestWith(16384 * 8, 16384, "none") },
    { kind: "manifest", id: 4, manifest: manifestWith(16384 * 13 + 7, 16384, "odd") },
    { kind: "manifest", id: 5, manifest: manifestWith(16384 * 13 + 7, 16384, "all") },
    { kind: "get-blocks", id: 6, narHash: hashA, indexes: [0] },
    {
      kind: "get-blocks",
      id: 7,
      narHash: hashA,
      indexes: Array.from({ length: 256 }, (_, i) => 0xffffffff - i),
    },
    { kind: "block", id: 8, index: 0, encoding: "raw", rawLength: 0, data: new Uint8Array(0) },
    { kind: "block", id: 9, index: 3, encoding: "raw", rawLength: big.length, data: big },
    { kind: "block", id: 10, index: 4, encoding: "zstd", rawLength: 5, data: randomBytes(100) },
    { kind: "not-found", id: 11, narHash: hashA },
    { kind: "error", id: 12, code: "not-available", message: "" },
    { kind: "error", id: 13, code: "busy", message: "zu viele Anfragen — später" },
    { kind: "error", id: 14, code: "bad-request", message: "x".repeat(1024) },
    { kind: "error", id: 15, code: "internal", message: "\u{1F600}\uFEFF" },
    { kind: "cancel", id: 16, indexes: [1] },
    { kind: "cancel", id: 17, indexes: Array.from({ length: 256 }, (_, i) => i * 3) },
    { kind: "have", id: 18, narHashes: [hashA] },
    { kind: "have", id: 19, narHashes: Array.from({ length: 1024 }, () => randomBytes(32)) },
    { kind: "have-reply", id: 20, states: ["none"] },
    {
      kind: "have-reply",
      id: 21,
      states: Array.from(
        { length: 1024 },
        (_, i) => (["none", "complete", "partial"] as const)[i % 3]!,
      ),
    },
    { kind: "get-nars", id: 22, narHashes: Array.from({ length: 256 }, () => randomBytes(32)) },
    { kind: "nar", id: 23, narHash: hashA, encoding: "raw", rawLength: 0, data: new Uint8Array(0) },
    { kind: "nar", id: 24, narHash: hashA, encoding: "raw", rawLength: big.length, data: big },
    { kind: "nar", id: 25, narHash: hashA, encoding: "zstd", rawLength: 9, data: randomBytes(40) },
    { kind: "bulk-open", id: 26 },
    { kind: "bulk-ticket", id: 27, port: 1, ticket: randomBytes(32) },
    { kind: "bulk-ticket", id: 28, port: 65535, ticket: randomBytes(32) },
  ];
}

Deno.test("a bulk ticket names a port and 32 bytes, nothing else", () => {
  assertThrows(
    () => encodeFrame({ kind: "bulk-ticket", id: 1, port: 0, ticket: randomBytes(32) }),
    WireError,
    "port 0 is not 1..65535",
  );
  assertThrows(
    () => encodeFrame({ kind: "bulk-ticket", id: 1, port: 9, ticket: randomBytes(31) }),
    WireError,
    "ticket of 31 bytes, expected 32",
  );
  const frame = encodeFrame({ kind: "bulk-ticket", id: 1, port: 9, ticket: randomBytes(32) });
  const zeroPort = frame.slice();
  zeroPort.set([0, 0], 10);
  assertThrows(() => decodeFrame(zeroPort), WireError, "port 0");
});

Deno.test("every message kind round-trips, including edge cases", () => {
  for (const message of corpus()) {
    const frame = encodeFrame(message);
    assertEquals(decodeFrame(frame), message, message.kind);
    const parts = encodeFrameParts(message);
    const joined = concatBytes(parts);
    assertEquals(joined, frame, `parts of ${message.kind}`);
  }
});

Deno.test("a stream of all messages decodes identically under any chunking", () => {
  const messages = corpus();
  const stream = new Uint8Array(messages.reduce((n, m) => n + encodeFrame(m).length, 0));
  let at = 0;
  for (const m of messages) {
    const f = encodeFrame(m);
    stream.set(f, at);
    at += f.length;
  }
  for (const step of [1, 3, 10, 4093, 65536, 1 << 20, stream.length]) {
    const d = new FrameDecoder();
    const out: WireMessage[] = [];
    for (let i = 0; i < stream.length; i += step) {
      d.push(stream.subarray(i, i + step));
      for (let m = d.next(); m; m = d.next()) out.push(m);
    }
    d.end();
    assertEquals(out, messages, `chunks of ${step}`);
    assertEquals(d.buffered, 0);
    assertEquals(d.offset, stream.length);
  }
});

Deno.test("block frames are sent as [header, data] without copying the data", () => {
  const data = randomBytes(262144);
  const message: WireMessage = {
    kind: "block",
    id: 1,
    index: 2,
    encoding: "raw",
    rawLength: data.length,
    data,
  };
  const [header, body, ...rest] = encodeFrameParts(message);
  assertEquals(rest.length, 0);
  assert(body === data, "the data part is the caller's own buffer");
  assertEquals(header!.length, BLOCK_HEADER_SIZE);
  assertEquals(header, encodeBlockHeader(message));
  // A decoded block that arrived in one chunk is a view of that chunk (no copy).
  const frame = encodeFrame(message);
  const decoded = decodeFrame(frame);
  assert(decoded.kind === "block" && decoded.data.buffer === frame.buffer);
});

Deno.test("decoded hashes and manifests do not alias the pushed bytes", () => {
  const m = manifestWith(40000, 16384, "odd");
  const frame = encodeFrame({ kind: "manifest", id: 1, manifest: m });
  const decoded = decodeFrame(frame);
  frame.fill(0);
  assert(decoded.kind === "manifest");
  assertEquals(decoded.manifest.hashes, m.hashes);
  assertEquals(decoded.manifest.narHash, m.narHash);
  assert(decoded.manifest.have.equals(m.have));
});

Deno.test("a decoder restricted to one direction rejects the other", () => {
  const request = encodeFrame({ kind: "get-manifest", id: 1, narHash: hashA });
  const response = encodeFrame({ kind: "not-found", id: 1, narHash: hashA });
  assertEquals(decodeFrame(request, { accept: "requests" }).kind, "get-manifest");
  assertEquals(decodeFrame(response, { accept: "responses" }).kind, "not-found");
  assertThrows(
    () => decodeFrame(response, { accept: "requests" }),
    WireError,
    "NOT_FOUND is not a request message (at stream byte 5)",
  );
  assertThrows(
    () => decodeFrame(request, { accept: "responses" }),
    WireError,
    "GET_MANIFEST is not a response message",
  );
});

Deno.test("the encoder refuses messages a peer would have to reject", () => {
  const cases: [WireMessage, string][] = [
    [{ kind: "get-manifest", id: -1, narHash: hashA }, "id -1 is not a u32"],
    [{ kind: "get-manifest", id: 2 ** 32, narHash: hashA }, "id 4294967296 is not a u32"],
    [{ kind: "not-found", id: 1, narHash: new Uint8Array(31) }, "narHash must be 32 bytes, got 31"],
    [{ kind: "get-blocks", id: 1, narHash: hashA, indexes: [] }, "0 indexes, expected 1 to 256"],
    [
      { kind: "cancel", id: 1, indexes: new Array(257).fill(0) },
      "257 indexes, expected 1 to 256",
    ],
    [{ kind: "cancel", id: 1, indexes: [1.5] }, "indexes[0] 1.5 is not a u32"],
    [
      { kind: "block", id: 1, index: 0, encoding: "raw", rawLength: 4, data: new Uint8Array(3) },
      "raw data is 3 bytes but rawLength is 4",
    ],
    [
      {
        kind: "block",
        id: 1,
        index: 0,
        encoding: "zstd",
        rawLength: 4 * 1024 * 1024 + 1,
        data: new Uint8Array(3),
      },
      "rawLength 4194305 is not in [0, 4194304]",
    ],
    [
      {
        kind: "manifest",
        id: 1,
        manifest: { ...manifestWith(100, 16384, "all"), blockCount: 2 },
      },
      "cannot encode manifest: block count 2 is not ceil(100 / 16384) = 1",
    ],
    [
      { kind: "error", id: 1, code: "teapot" as "busy", message: "" },
      'unknown code "teapot"',
    ],
  ];
  for (const [message, text] of cases) {
    assertThrows(() => encodeFrame(message), WireError, text);
  }
  assertThrows(
    () =>
      encodeFrame(
        {
          kind: "block",
          id: 1,
          index: 0,
          encoding: "raw",
          rawLength: 100,
          data: new Uint8Array(100),
        },
        { maxMessageSize: 100 },
      ),
    WireError,
    "payload of 115 bytes exceeds 100",
  );
});

Deno.test("long error messages are cut at a character boundary", () => {
  const message = "é".repeat(600); // 1200 bytes of UTF-8
  const decoded = decodeFrame(encodeFrame({ kind: "error", id: 1, code: "internal", message }));
  assert(decoded.kind === "error");
  assertEquals(decoded.message, "é".repeat(512));
  const emoji = "a" + "\u{1F600}".repeat(300); // 1 + 1200 bytes: cut inside no character
  const cut = decodeFrame(encodeFrame({ kind: "error", id: 1, code: "internal", message: emoji }));
  assert(cut.kind === "error");
  assertEquals(cut.message, "a" + "\u{1F600}".repeat(255));
});

/** A frame with the given type and raw body bytes (for malformed-body tests). */
function rawFrame(type: number, body: number[] | Uint8Array, id = 1): Uint8Array {
  const out = new Uint8Array(10 + body.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, 6 + body.length);
  out[4] = 2;
  out[5] = type;
  v.setUint32(6, id);
  out.set(body, 10);
  return out;
}

const u32 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

Deno.test("malformed bodies are WireErrors naming the field, the value and the byte", () => {
  const h = [...hashA];
  const cases: [Uint8Array, string][] = [
    [rawFrame(1, h.slice(1)), "GET_MANIFEST: body too short: nar_hash needs 32 bytes, 31 left"],
    [rawFrame(1, [...h, 0]), "GET_MANIFEST: 1 trailing bytes after the body (at stream byte 42)"],
    [rawFrame(3, [...h, ...u32(0)]), "GET_BLOCKS: count 0 is not in 1..256 (at stream byte 42)"],
    [rawFrame(3, [...h, ...u32(257)]), "count 257 is not in 1..256"],
    [rawFrame(3, [...h, ...u32(0xffffffff)]), "count 4294967295 is not in 1..256"],
    [rawFrame(3, [...h, ...u32(2), ...u32(1)]), "4 bytes for 2 indexes, expected 8"],
    [rawFrame(7, [...u32(1), ...u32(1), 0]), "CANCEL: 5 bytes for 1 indexes, expected 4"],
    [
      rawFrame(4, [...u32(0), 2, ...u32(0)]),
      "BLOCK: unknown encoding 2, expected 0 or 1 (at stream byte 14)",
    ],
    [rawFrame(4, [...u32(0), 0, ...u32(3), 1, 2]), "raw block data is 2 bytes but raw_length is 3"],
    [
      rawFrame(4, [...u32(0), 1, ...u32(4194305), 1]),
      "raw_length 4194305 exceeds the largest block size",
    ],
    [rawFrame(4, [...u32(0), 0, 0, 0]), "BLOCK: body too short: raw_length needs 4 bytes, 2 left"],
    [rawFrame(6, [0, 0]), "ERROR: unknown error code 0, expected 1 to 4 (at stream byte 10)"],
    [rawFrame(6, [0, 5, 0x41]), "unknown error code 5"],
    [rawFrame(6, [0, 2, 0xc3, 0x28]), "ERROR: message is not valid UTF-8 (at stream byte 12)"],
    [rawFrame(6, [0, 2, ...new Uint8Array(1025).fill(0x41)]), "message of 1025 bytes exceeds 1024"],
    [rawFrame(6, [0]), "body too short: code needs 2 bytes, 1 left"],
    [rawFrame(8, u32(0)), "HAVE: count 0 is not in 1..1024 (at stream byte 10)"],
    [rawFrame(8, [...u32(2), ...h]), "32 bytes for 2 hashes, expected 64"],
    [rawFrame(9, [...u32(2), 1]), "HAVE_REPLY: 1 bytes for 2 states, expected 2"],
    [rawFrame(9, [...u32(1), 3]), "unknown state 3, expected 0 to 2 (at stream byte 14)"],
    [rawFrame(10, [...u32(257)]), "GET_NARS: count 257 is not in 1..256"],
    [
      rawFrame(11, [...h, 2, ...u32(0)]),
      "NAR: unknown encoding 2, expected 0 or 1 (at stream byte 42)",
    ],
    [rawFrame(11, [...h, 0, ...u32(3), 1]), "raw NAR data is 1 bytes but raw_length is 3"],
    [
      rawFrame(11, [...h, 1, ...u32(4194305), 1]),
      "raw_length 4194305 exceeds the largest whole NAR",
    ],
  ];
  for (const [frame, text] of cases) assertThrows(() => decodeFrame(frame), WireError, text);
});

Deno.test("malformed manifests: sizes, counts, lengths and trailing bits", () => {
  const head = (narSize: bigint, blockSize: number, blockCount: number) => {
    const b = new Uint8Array(49); // ... | block_count | flags 0
    b.set(hashA);
    new DataView(b.buffer).setBigUint64(32, narSize);
    new DataView(b.buffer).setUint32(40, blockSize);
    new DataView(b.buffer).setUint32(44, blockCount);
    return [...b];
  };
  const hashes = (n: number) => new Array(32 * n).fill(7);
  const cases: [Uint8Array, string][] = [
    [rawFrame(2, head(2n ** 53n, 16384, 1)), "nar_size 9007199254740992 exceeds 2^53 - 1"],
    [
      rawFrame(2, head(100n, 10000, 1)),
      "block_size 10000 is not a power of two in [16384, 4194304] (at stream byte 50)",
    ],
    [rawFrame(2, head(100n, 8192, 1)), "block_size 8192"],
    [
      rawFrame(2, head(100000n, 16384, 6)),
      "block_count 6 is not ceil(nar_size 100000 / block_size 16384) = 7 (at stream byte 54)",
    ],
    [
      rawFrame(2, [...head(100000n, 16384, 7), 0xfe, ...hashes(6)]),
      "193 bytes after flags, expected 1 (bitfield) + 7 × 32 (hashes) = 225",
    ],
    [
      rawFrame(2, [...head(100000n, 16384, 7), 0xff, ...hashes(7)]),
      "have bitfield has unused trailing bits set (0xff in its last byte for 7 blocks) (at stream byte 59)",
    ],
    [
      rawFrame(2, [...head(16n * 16384n * 4096n, 16384, 4096 * 16), ...hashes(1)]),
      "expected 8192 (bitfield) + 65536 × 32 (hashes) = 2105344",
    ],
    [
      rawFrame(2, [...head(100000n, 16384, 7).slice(0, 48), 0x02, 0xfe, ...hashes(7)]),
      "flags 0x02 has unknown bits set (at stream byte 58)",
    ],
  ];
  for (const [frame, text] of cases) assertThrows(() => decodeFrame(frame), WireError, text);
  const ok = rawFrame(2, [...head(100000n, 16384, 7), 0xfe, ...hashes(7)]);
  const m = decodeFrame(ok);
  assert(m.kind === "manifest");
  assertEquals([...m.manifest.have], [0, 1, 2, 3, 4, 5, 6]);
  assertEquals(m.manifest.verified, false, "flags 0: a relayed manifest");
  const verified = decodeFrame(
    rawFrame(2, [...head(100000n, 16384, 7).slice(0, 48), 0x01, 0xfe, ...hashes(7)]),
  );
  assert(verified.kind === "manifest" && verified.manifest.verified === true);
});

Deno.test("frame headers: length, version and type are checked as soon as they arrive", () => {
  const d = new FrameDecoder({ maxMessageSize: 1000 });
  assertThrows(
    () => d.push(new Uint8Array([0, 0, 3, 0xe9])),
    WireError,
    "frame length 1001 exceeds max_message_size 1000 (at stream byte 0)",
  );
  assertEquals(d.buffered, 0, "the failed decoder drops what it held");
  assertThrows(() => d.next(), WireError, "frame length 1001");
  assertThrows(() => d.push(new Uint8Array(1)), WireError, "frame length 1001");

  const short = new FrameDecoder();
  assertThrows(
    () => short.push(new Uint8Array([0, 0, 0, 5])),
    WireError,
    "frame length 5 is too short",
  );

  const version = new FrameDecoder();
  version.push(new Uint8Array([0, 0, 0, 38]));
  assertThrows(
    () => version.push(new Uint8Array([1])),
    WireError,
    "unsupported version 1, expected 2 (at stream byte 4)",
  );

  const type = new FrameDecoder();
  type.push(new Uint8Array([0, 0, 0, 38, 2]));
  assertThrows(
    () => type.push(new Uint8Array([14])),
    WireError,
    "unknown message type 14 (at stream byte 5)",
  );
  const zero = new FrameDecoder();
  assertThrows(
    () => zero.push(new Uint8Array([0, 0, 0, 38, 2, 0])),
    WireError,
    "unknown message type 0",
  );

  // Offsets count from the start of the stream, across frames.
  const later = new FrameDecoder();
  const first = encodeFrame({ kind: "cancel", id: 1, indexes: [1] });
  later.push(first);
  later.push(new Uint8Array([0, 0, 0, 6, 2, 14]));
  assertEquals(later.next()?.kind, "cancel");
  assertThrows(() => later.next(), WireError, `(at stream byte ${first.length + 5})`);
});

Deno.test("end() reports a stream cut inside a frame", () => {
  const frame = encodeFrame({ kind: "get-manifest", id: 1, narHash: hashA });
  const d = new FrameDecoder();
  d.push(frame.subarray(0, 20));
  assertEquals(d.next(), undefined);
  assertThrows(
    () => d.end(),
    WireError,
    "stream ended inside a frame (20 bytes buffered) (at stream byte 0)",
  );
  const whole = new FrameDecoder();
  whole.push(frame);
  whole.next();
  whole.end();
  assertThrows(() => decodeFrame(frame.subarray(0, 41)), WireError, "incomplete frame: 41 bytes");
  assertThrows(
    () => decodeFrame(new Uint8Array([...frame, 0])),
    WireError,
    "1 bytes after the frame",
  );
});
