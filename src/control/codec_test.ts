import { assertEquals, assertThrows } from "@std/assert";
import { dataHeader, encodeMessage, FrameDecoder } from "./codec.ts";
import { ControlProtocolError } from "./errors.ts";
import { parseRequest, parseResponse } from "./messages.ts";

Deno.test("frames survive arbitrary splitting", () => {
  const data = crypto.getRandomValues(new Uint8Array(1000));
  const stream = new Uint8Array([
    ...encodeMessage({ kind: "ok", id: 7 }),
    ...dataHeader(data.length),
    ...data,
    ...encodeMessage({ kind: "done", id: 7, bytes: 1000 }),
  ]);
  for (const step of [1, 3, 5, 64, stream.length]) {
    const d = new FrameDecoder();
    const frames = [];
    for (let i = 0; i < stream.length; i += step) {
      d.push(stream.subarray(i, i + step));
      for (let f = d.next(); f; f = d.next()) frames.push(f);
    }
    assertEquals(frames, [
      { kind: "message", message: { kind: "ok", id: 7 } },
      { kind: "data", bytes: data },
      { kind: "message", message: { kind: "done", id: 7, bytes: 1000 } },
    ]);
    assertEquals(d.buffered, 0);
  }
});

Deno.test("oversized, unknown and non-JSON frames are rejected", () => {
  const big = new FrameDecoder({ maxMessage: 10 });
  big.push(encodeMessage({ kind: "status", id: 1, pad: "xxxxxxxx" }));
  assertThrows(() => big.next(), ControlProtocolError, "exceeds the 10-byte limit");
  const unknown = new FrameDecoder();
  unknown.push(new Uint8Array([0, 0, 0, 1, 9, 0]));
  assertThrows(() => unknown.next(), ControlProtocolError, "unknown frame type 9");
  const junk = new FrameDecoder();
  junk.push(new Uint8Array([0, 0, 0, 2, 1, 0x7b, 0xff]));
  assertThrows(() => junk.next(), ControlProtocolError, "not UTF-8 JSON");
  const data = new FrameDecoder({ maxData: 4 });
  data.push(dataHeader(5));
  assertThrows(() => data.next(), ControlProtocolError, "data frame of 5 bytes");
});

Deno.test("requests and responses are validated field by field", () => {
  assertEquals(parseRequest({ kind: "lookup", id: 1, storePaths: ["/a"], policy: "http-only" }), {
    kind: "lookup",
    id: 1,
    storePaths: ["/a"],
    policy: "http-only",
  });
  assertThrows(
    () => parseRequest({ kind: "lookup", id: -1, storePaths: [] }),
    ControlProtocolError,
    "id",
  );
  assertThrows(
    () => parseRequest({ kind: "lookup", id: 1, storePaths: [1] }),
    ControlProtocolError,
  );
  assertThrows(
    () => parseRequest({ kind: "fetch", id: 1, storePath: "/a", narHash: "x", narSize: 1.5 }),
    ControlProtocolError,
    "narSize",
  );
  assertThrows(
    () => parseRequest({ kind: "lookup", id: 1, storePaths: [], policy: "fast" }),
    ControlProtocolError,
    "policy",
  );
  assertThrows(
    () => parseRequest({ kind: "rm", id: 1 }),
    ControlProtocolError,
    "unknown request kind",
  );
  assertThrows(() => parseRequest([1]), ControlProtocolError, "JSON object");
  assertThrows(
    () => parseResponse({ kind: "error", id: 1, code: "weird", message: "" }),
    ControlProtocolError,
    "code",
  );
  assertThrows(
    () =>
      parseResponse({ kind: "lookup-result", id: 1, items: [{ kind: "found", storePath: "/a" }] }),
    ControlProtocolError,
    "narinfo",
  );
  assertEquals(parseResponse({ kind: "progress", id: 2, transferred: 5, total: null }), {
    kind: "progress",
    id: 2,
    transferred: 5,
    total: null,
  });
});
