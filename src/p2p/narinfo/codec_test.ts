/**
 * The narinfo exchange's codec: byte-exact vectors written by hand from
 * docs/protocol.md §6 (so another implementation can check itself against
 * the same bytes), round trips, and every violation a peer can commit.
 */
import { assert, assertEquals, assertThrows } from "@std/assert";
import { hexDecode } from "../../encoding/hex.ts";
import { WireError } from "../wire/errors.ts";
import { NarinfoFrameDecoder, readNarinfoFrames } from "./decode.ts";
import { encodeNarinfoFrame, packNarinfos } from "./encode.ts";
import {
  MAX_HASH_PARTS,
  MAX_NARINFO_TEXT,
  type NarinfosMessage,
  type NarinfoWireMessage,
} from "./messages.ts";

const hex = (spaced: string) => hexDecode(spaced.replace(/\s+/g, ""));
const ascii = (s: string) => [...new TextEncoder().encode(s)].map((b) => b.toString(16)).join("");
const H1 = "0ad3jr1jlg1p2sfxbqcyvgmr3bf5mcrc";
const H2 = "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz";
const KEY = new Uint8Array(32).fill(0xab);

const vectors: { name: string; bytes: Uint8Array; message: NarinfoWireMessage }[] = [
  {
    name: "GET_NARINFOS id 1, guix, one key ab…, two hash parts",
    // length 106 = 6 + 1 (flavour) + 1 (keys) + 32 + 2 (count) + 2 × 32
    bytes: hex(`0000006a 01 01 00000001 01 01 ${"ab".repeat(32)} 0002 ${ascii(H1)} ${ascii(H2)}`),
    message: { kind: "get-narinfos", id: 1, flavour: "guix", keys: [KEY], hashParts: [H1, H2] },
  },
  {
    name: 'NARINFOS id 1, first 0: "A\\n", then not held',
    // length 18 = 6 + 2 (first) + 2 (count) + (1 + 4 + 2) + 1
    bytes: hex(`00000012 01 02 00000001 0000 0002 01 00000002 410a 00`),
    message: { kind: "narinfos", id: 1, first: 0, entries: ["A\n", null] },
  },
  {
    name: 'ERROR id 0x0a0b0c0d, busy, "slow"',
    bytes: hex(`0000000c 01 03 0a0b0c0d 0001 ${ascii("slow")}`),
    message: { kind: "error", id: 0x0a0b0c0d, code: "busy", message: "slow" },
  },
];

for (const v of vectors) {
  Deno.test(`narinfo codec golden: ${v.name}`, () => {
    assertEquals(encodeNarinfoFrame(v.message), v.bytes);
    const d = new NarinfoFrameDecoder({
      accept: v.message.kind === "get-narinfos" ? "requests" : "responses",
    });
    d.push(v.bytes);
    assertEquals(d.next(), v.message);
    assertEquals(d.next(), undefined);
    d.end();
  });
}

Deno.test("narinfo codec: frames split byte by byte decode to the same messages", async () => {
  const frames = [
    encodeNarinfoFrame({ kind: "narinfos", id: 9, first: 0, entries: ["StorePath: x\n", null] }),
    encodeNarinfoFrame({ kind: "narinfos", id: 9, first: 2, entries: ["é ünïcode\n"] }),
  ];
  const bytes = new Uint8Array(frames[0]!.length + frames[1]!.length);
  bytes.set(frames[0]!);
  bytes.set(frames[1]!, frames[0]!.length);
  const chunks = [...bytes].map((b) => new Uint8Array([b]));
  const out: NarinfoWireMessage[] = [];
  for await (const m of readNarinfoFrames(chunks, { accept: "responses" })) out.push(m);
  assertEquals(out, [
    { kind: "narinfos", id: 9, first: 0, entries: ["StorePath: x\n", null] },
    { kind: "narinfos", id: 9, first: 2, entries: ["é ünïcode\n"] },
  ]);
});

Deno.test("narinfo codec: a frame announcing more than the limit fails before its body", () => {
  const d = new NarinfoFrameDecoder({ accept: "requests" });
  const e = assertThrows(() => d.push(hex("00100000")), WireError);
  assert(e.message.includes("exceeds the limit 65536"), e.message);
  assertThrows(() => d.push(new Uint8Array([1])), WireError, "exceeds"); // it stays failed
});

Deno.test("narinfo codec: every malformed frame is a WireError naming the field", () => {
  const cases: [string, string, "requests" | "responses", string][] = [
    ["version 2", `00000006 02 02 00000001`, "responses", "unsupported version 2"],
    ["type 9", `00000006 01 09 00000001`, "responses", "unknown message type 9"],
    ["a request to a requester", `00000006 01 01 00000001`, "responses", "not a response"],
    ["a response to a responder", `00000006 01 02 00000001`, "requests", "not a request"],
    ["flavour 3", `0000000a 01 01 00000001 03 01 0000`, "requests", "unknown flavour 3"],
    ["no key", `0000000a 01 01 00000001 01 00 0001`, "requests", "key count 0"],
    [
      "a hash part with 'e'",
      `0000004a 01 01 00000001 01 01 ${"00".repeat(32)} 0001 ${ascii("e".repeat(32))}`,
      "requests",
      "is not nix32",
    ],
    ["count 0", `0000000a 01 02 00000001 0000 0000`, "responses", "entries 0..-1"],
    ["past 1024", `0000000a 01 02 00000001 03ff 0002`, "responses", "not within 0..1023"],
    ["flag 2", `0000000b 01 02 00000001 0000 0001 02`, "responses", "flag 2"],
    [
      "a text past its frame",
      `0000000f 01 02 00000001 0000 0001 01 00000009`,
      "responses",
      "needs 9 bytes",
    ],
    ["bad UTF-8", `00000011 01 02 00000001 0000 0001 01 00000002 c328`, "responses", "UTF-8"],
    ["trailing bytes", `0000000c 01 02 00000001 0000 0001 00 00`, "responses", "1 trailing"],
    ["error code 7", `00000008 01 03 00000001 0007`, "responses", "unknown error code 7"],
  ];
  for (const [what, bytes, accept, expected] of cases) {
    const d = new NarinfoFrameDecoder({ accept });
    const e = assertThrows(() => {
      d.push(hex(bytes));
      d.next();
    }, WireError);
    assert(e.message.includes(expected), `${what}: ${e.message}`);
  }
  const d = new NarinfoFrameDecoder({ accept: "responses" });
  d.push(hex("0000000a 01 02"));
  assertThrows(() => d.end(), WireError, "stream ended inside a frame");
});

Deno.test("narinfo codec: the encoder refuses what the decoder would", () => {
  const base = { kind: "get-narinfos" as const, id: 1, flavour: "nix" as const };
  assertThrows(() => encodeNarinfoFrame({ ...base, keys: [], hashParts: [H1] }), WireError);
  assertThrows(
    () => encodeNarinfoFrame({ ...base, keys: [new Uint8Array(31)], hashParts: [H1] }),
    WireError,
  );
  assertThrows(() => encodeNarinfoFrame({ ...base, keys: [KEY], hashParts: ["abc"] }), WireError);
  assertThrows(
    () =>
      encodeNarinfoFrame({
        ...base,
        keys: [KEY],
        hashParts: Array(MAX_HASH_PARTS + 1).fill(H1),
      }),
    WireError,
  );
  assertThrows(
    () =>
      encodeNarinfoFrame({
        kind: "narinfos",
        id: 1,
        first: 0,
        entries: ["x".repeat(MAX_NARINFO_TEXT + 1)],
      }),
    WireError,
  );
  const long = encodeNarinfoFrame({
    kind: "error",
    id: 1,
    code: "internal",
    message: "é".repeat(900),
  });
  assertEquals(long.length, 4 + 6 + 2 + 1024, "cut at 1024 bytes, on a character boundary");
});

Deno.test("narinfo codec: packNarinfos splits a batch within the frame limit, in order", () => {
  const text = "StorePath: /gnu/store/x\n" + "References: a\n".repeat(4000); // ~56 KB
  const entries = Array.from({ length: 100 }, (_, i) => (i % 3 === 0 ? null : text));
  const packed = packNarinfos(5, entries, 512 * 1024);
  assert(packed.length > 1, `${packed.length} message(s)`);
  let next = 0;
  const all: (string | null)[] = [];
  for (const m of packed) {
    assertEquals(m.first, next);
    assert(encodeNarinfoFrame(m).length - 4 <= 512 * 1024);
    next += m.entries.length;
    all.push(...(m as NarinfosMessage).entries);
  }
  assertEquals(all, entries);
});
