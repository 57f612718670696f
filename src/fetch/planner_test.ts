import { assertEquals, assertRejects } from "@std/assert";
import type { FetchSink } from "./types.ts";
import { formatNarHash } from "../hash/nar_hash.ts";
import { sha256 } from "../hash/sha256.ts";
import { NarHashMismatchError, NoSourceError } from "./errors.ts";
import { FetchPlanner } from "./planner.ts";
import type { FetchTarget, NarSource, SourceFactory } from "./source.ts";

const NAR = new Uint8Array(1_000_000).map((_, i) => (i * 7919) % 251);
const target: FetchTarget = {
  storePath: "/gnu/store/x",
  narHash: formatNarHash(sha256(NAR)),
  narHashDigest: sha256(NAR),
  narSize: NAR.length,
  urls: [],
};

interface Fake extends NarSource {
  opens: number[];
  rejectedCalls: number;
  verifiedCalls: number;
}

/** A source serving `bytes` (from the offset asked), optionally failing after `failAt` bytes. */
function fake(
  name: string,
  kind: "http" | "p2p",
  bytes: Uint8Array,
  options: { failAt?: number; verifyFirst?: boolean } = {},
): Fake {
  const f: Fake = {
    kind,
    url: name,
    size: null,
    opens: [],
    rejectedCalls: 0,
    verifiedCalls: 0,
    ...(options.verifyFirst ? { verifyFirst: true } : {}),
    open(offset) {
      f.opens.push(offset);
      let pos = offset;
      const stream = new ReadableStream<Uint8Array>({
        pull(c) {
          if (options.failAt !== undefined && pos >= options.failAt) {
            return c.error(new Error(`${name} broke`));
          }
          if (pos >= bytes.length) return c.close();
          const end = Math.min(bytes.length, pos + 65536, options.failAt ?? Infinity);
          c.enqueue(bytes.slice(pos, end));
          pos = end;
        },
      });
      return Promise.resolve({ stream, transferred: () => pos - offset });
    },
    rejected() {
      f.rejectedCalls++;
    },
    verified() {
      f.verifiedCalls++;
    },
  };
  return f;
}

function factory(sources: NarSource[]): SourceFactory {
  return {
    async *sources() {
      yield* sources;
    },
  };
}

function collector() {
  const events: { kind: string; offset?: number }[] = [];
  let data: Uint8Array[] = [];
  const sink: FetchSink = {
    source: (info) => {
      events.push({ kind: "source", offset: info.offset });
      if (info.offset === 0) data = [];
      return Promise.resolve();
    },
    progress: () => Promise.resolve(),
    data: (bytes) => {
      data.push(bytes.slice());
      return Promise.resolve();
    },
  };
  const bytes = () => {
    const out = new Uint8Array(data.reduce((n, d) => n + d.length, 0));
    let off = 0;
    for (const d of data) {
      out.set(d, off);
      off += d.length;
    }
    return out;
  };
  return { sink, events, bytes };
}

const lie = NAR.map((b) => b ^ 1);

Deno.test("planner: a source failing midway is resumed by the next at the exact byte", async () => {
  const a = fake("a", "p2p", NAR, { failAt: 600_000 });
  const b = fake("b", "http", NAR);
  const c = collector();
  const planner = new FetchPlanner({ http: factory([b]), p2p: factory([a]) });
  assertEquals(
    await planner.fetch(target, c.sink, {
      signal: new AbortController().signal,
      policy: "p2p-first",
    }),
    NAR.length,
  );
  assertEquals(c.bytes(), NAR);
  // Bytes go on in 256 KiB pieces: the next source resumes after the last piece handed on.
  assertEquals(b.opens, [524_288]);
  // A NAR made of two sources' bytes vouches for neither: b gave only the tail.
  assertEquals([a.rejectedCalls, a.verifiedCalls, b.verifiedCalls], [0, 0, 0]);
});

Deno.test("planner: a mixed NAR that fails its NarHash blames neither source", async () => {
  const half = fake("liar-head", "p2p", lie, { failAt: 600_000 });
  const tail = fake("honest-tail", "http", NAR);
  const good = fake("good", "http", NAR);
  const c = collector();
  const planner = new FetchPlanner({ http: factory([tail, good]), p2p: factory([half]) });
  await planner.fetch(target, c.sink, {
    signal: new AbortController().signal,
    policy: "p2p-first",
    rewind: true,
  });
  assertEquals([half.rejectedCalls, tail.rejectedCalls], [0, 0]);
  assertEquals(good.verifiedCalls, 1, "the source that gave the whole NAR is vouched for");
});

Deno.test("planner: a NAR that fails its NarHash rewinds to byte 0 with the next source (rewinding consumer)", async () => {
  const liar = fake("liar", "p2p", lie);
  const good = fake("good", "http", NAR);
  const c = collector();
  const planner = new FetchPlanner({ http: factory([good]), p2p: factory([liar]) });
  await planner.fetch(target, c.sink, {
    signal: new AbortController().signal,
    policy: "p2p-first",
    rewind: true,
  });
  assertEquals(c.bytes(), NAR);
  assertEquals(c.events.map((e) => e.offset), [0, 0]);
  assertEquals(liar.rejectedCalls, 1);
});

Deno.test("planner: without rewind a mismatch fails the transfer; policies select sources", async () => {
  const planner = new FetchPlanner({
    http: factory([fake("liar", "http", lie)]),
    p2p: factory([]),
  });
  await assertRejects(
    () =>
      planner.fetch(target, collector().sink, {
        signal: new AbortController().signal,
        policy: "http-only",
      }),
    NarHashMismatchError,
  );
  const p2pOnly = new FetchPlanner({ http: factory([fake("h", "http", NAR)]), p2p: factory([]) });
  await assertRejects(
    () =>
      p2pOnly.fetch(target, collector().sink, {
        signal: new AbortController().signal,
        policy: "p2p-only",
      }),
    NoSourceError,
    "no source for policy p2p-only",
  );
});

Deno.test("planner: verify-first sends nothing of a lying peer and blames it; a stall is not a lie", async () => {
  const liar = fake("liar", "p2p", lie, { verifyFirst: true });
  const staller = fake("staller", "p2p", NAR, { verifyFirst: true, failAt: 300_000 });
  const good = fake("good", "http", NAR);
  const c = collector();
  const planner = new FetchPlanner({ http: factory([good]), p2p: factory([liar, staller]) });
  await planner.fetch(target, c.sink, {
    signal: new AbortController().signal,
    policy: "p2p-first",
    rewind: false,
  });
  assertEquals(c.bytes(), NAR);
  assertEquals(c.events.map((e) => e.offset), [0], "only the honest source was ever sent");
  assertEquals([liar.rejectedCalls, staller.rejectedCalls], [1, 0]);
  // A verified peer is streamed from its own data after the check.
  const honest = fake("honest", "p2p", NAR, { verifyFirst: true });
  const c2 = collector();
  await new FetchPlanner({ http: factory([]), p2p: factory([honest]) }).fetch(target, c2.sink, {
    signal: new AbortController().signal,
    policy: "p2p-only",
  });
  assertEquals([c2.bytes(), honest.opens, honest.verifiedCalls], [NAR, [0, 0], 1]);
});
