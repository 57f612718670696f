/**
 * Response bodies for NARs. A body produced by the fetch planner holds its
 * last chunk back until the planner has checked the whole NAR against its
 * NarHash: if the check fails (or no source can finish), the body errors
 * instead, so the client sees a truncated response (Content-Length is always
 * set) and never a complete unverified NAR. A `Range: bytes=N-` request is
 * served by verifying from byte 0 and sending from byte N.
 *
 * @example
 * ```ts
 * const body = plannedNarBody((sink, signal) => planner.fetch(target, sink, { signal, policy, rewind: false }), 0);
 * return new Response(body, { headers });
 * ```
 * @module
 */
import type { FetchSink } from "../fetch/types.ts";
import type { LocalNar } from "../fetch/local.ts";

/** Runs a fetch into a sink; resolves when the NAR was verified. */
export type RunFetch = (sink: FetchSink, signal: AbortSignal) => Promise<unknown>;

/** The NAR from byte `offset`, produced by `run`; see the module doc for the hold-back rule. */
export function plannedNarBody(
  run: RunFetch,
  offset: number,
  hooks: {
    onSource?: (source: string, url: string) => void;
    onChunk?: (bytes: Uint8Array) => void;
  } = {},
): ReadableStream<Uint8Array> {
  const abort = new AbortController();
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>({}, {
    highWaterMark: 1,
  }, {
    highWaterMark: 1,
  });
  const writer = writable.getWriter();
  let position = 0;
  let held: Uint8Array | undefined;
  const send = async (bytes: Uint8Array) => {
    const end = position + bytes.length;
    if (end > offset) {
      await writer.write(position >= offset ? bytes : bytes.subarray(offset - position));
    }
    position = end;
  };
  const sink: FetchSink = {
    source: (info) => {
      hooks.onSource?.(info.source, info.url);
      return Promise.resolve();
    },
    progress: () => Promise.resolve(),
    data: async (bytes) => {
      hooks.onChunk?.(bytes);
      if (held) await send(held);
      held = bytes;
    },
  };
  run(sink, abort.signal).then(
    async () => {
      if (held) await send(held);
      await writer.close();
    },
    (e) => writer.abort(e),
  ).catch(() => {});
  const reader = readable.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      const { done, value } = await reader.read();
      if (done) c.close();
      else c.enqueue(value);
    },
    cancel(reason) {
      abort.abort(new Error("the client went away"));
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/** The NAR from byte `offset`, read from a complete, verified block-cache entry. */
export function cachedNarBody(entry: LocalNar, offset: number): ReadableStream<Uint8Array> {
  const release = entry.pin();
  let position = offset;
  const size = entry.narSize;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      if (position >= size) {
        release();
        return c.close();
      }
      const n = Math.min(1024 * 1024, size - position);
      c.enqueue(await entry.read(position, n));
      position += n;
    },
    cancel() {
      release();
    },
  }, { highWaterMark: 0 });
}

/** Parses `Range: bytes=N-` (the only form Nix sends); undefined for no range, "invalid" for anything else. */
export function parseRange(header: string | null, size: number): number | undefined | "invalid" {
  if (header === null) return undefined;
  const m = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!m) return "invalid";
  const start = Number(m[1]);
  if (m[2] !== "" && Number(m[2]) < size - 1) return "invalid"; // only open-ended ranges are served
  return start < size ? start : "invalid";
}
