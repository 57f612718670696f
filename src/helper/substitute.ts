/**
 * `--substitute`: one item from an authorized narinfo, restored, verified and
 * moved into place. The NAR streams from the daemon straight into a restore
 * of a fresh sibling directory of DEST while it is hashed; only when the whole
 * NAR hashes to the signed NarHash with the signed NarSize is the directory
 * renamed to DEST. So nothing unverified ever appears at DEST, and every
 * failure leaves nothing behind.
 *
 * @example
 * ```ts
 * const status = await substituteItem({ storePath, dest }, session, reporter);
 * fd4.write(status.line);
 * ```
 * @module
 */
import type { FetchEvent } from "../control/client.ts";
import type { SourceKind } from "../control/messages.ts";
import { hexEncode } from "../encoding/hex.ts";
import { nix32Encode } from "../encoding/nix32.ts";
import { NarRestoreError, removeTree, restoreNarToPath } from "../nar/mod.ts";
import type { Narinfo } from "../narinfo/mod.ts";
import { fetchDeadlineMs, withDeadline } from "./deadline.ts";
import { HashMismatchError, NoSubstituteError } from "./errors.ts";
import { authorizedNarinfos } from "./query.ts";
import { successLine } from "./replies.ts";
import type { Session } from "./session.ts";
import type { ProgressReporter } from "./traces.ts";

/** A successful substitution. */
export interface Substituted {
  /** The status line to write on fd 4. */
  line: string;
  narinfo: Narinfo;
  /** Where most bytes came from. */
  source: SourceKind;
}

/** Substitutes `storePath` into `dest`. Throws on failure (see status.ts for the mapping). */
export async function substituteItem(
  request: { storePath: string; dest: string },
  session: Session,
  reporter: ProgressReporter,
): Promise<Substituted> {
  const { storePath, dest } = request;
  const narinfo = (await authorizedNarinfos([storePath], session)).get(storePath);
  if (!narinfo) throw new NoSubstituteError(`no valid substitute for '${storePath}'`);
  if (await exists(dest)) {
    throw new NarRestoreError(
      "destination already exists; guix-daemon should have removed it",
      dest,
    );
  }
  const partial = `${dest}.guix-p2p-${hexEncode(crypto.getRandomValues(new Uint8Array(6)))}`;
  const client = await session.daemon.client();
  const events = withDeadline(
    client.fetch({
      storePath,
      narHash: narinfo.narHash,
      narSize: narinfo.narSize,
      ...(session.urls ? { urls: session.urls } : {}),
      ...(session.policy ? { policy: session.policy } : {}),
    }),
    fetchDeadlineMs(narinfo.narSize, session.config),
    storePath,
  );
  const bySource = new Map<SourceKind, number>();
  let current: SourceKind = "http";
  let fetchError: unknown;
  let received = 0;
  // A restore attempt reads this stream; a `source` event at an offset below
  // what was received means the daemon rewound (the whole NAR failed its
  // check): the attempt is abandoned (its scratch tree removed) and a new one
  // starts with the bytes that follow.
  const attempt = () =>
    new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          for (;;) {
            const next = await events.next();
            if (next.done) return controller.close();
            const ev: FetchEvent = next.value;
            switch (ev.kind) {
              case "data":
                received += ev.bytes.length;
                bySource.set(current, (bySource.get(current) ?? 0) + ev.bytes.length);
                return controller.enqueue(ev.bytes);
              case "source":
                if (ev.offset < received) {
                  if (ev.offset !== 0) {
                    throw new Error(`daemon rewound to byte ${ev.offset}, not 0`);
                  }
                  received = 0;
                  bySource.clear();
                  current = ev.source;
                  reporter.start(dest, ev.url, ev.size ?? undefined);
                  throw new Rewind();
                }
                current = ev.source;
                reporter.start(dest, ev.url, ev.size ?? undefined);
                break;
              case "progress":
                reporter.report(ev.transferred);
                break;
              case "done":
                break;
            }
          }
        } catch (e) {
          if (!(e instanceof Rewind)) fetchError = e;
          controller.error(e);
        }
      },
    }, { highWaterMark: 0 });

  /** Discards data until the fetch ends (false) or the daemon rewinds to byte 0 (true). */
  const drainUntilRewind = async (): Promise<boolean> => {
    try {
      for (;;) {
        const next = await events.next();
        if (next.done) return false;
        const ev = next.value;
        if (ev.kind === "data") {
          received += ev.bytes.length;
          // A source sends at most NarSize bytes before it rewinds or ends.
          if (received > narinfo.narSize) {
            throw new Error(`the daemon sent more than NarSize (${narinfo.narSize}) bytes`);
          }
        } else if (ev.kind === "source" && ev.offset === 0 && received > 0) {
          received = 0;
          bySource.clear();
          current = ev.source;
          reporter.start(dest, ev.url, ev.size ?? undefined);
          return true;
        } else if (ev.kind === "done") return false;
      }
    } catch (e) {
      fetchError = e;
      return false;
    }
  };

  let result;
  for (let rewinds = 0;; rewinds++) {
    try {
      result = await restoreNarToPath(attempt(), partial, { maxSize: narinfo.narSize, hash: true });
      break;
    } catch (e) {
      if (e instanceof Rewind && rewinds < 8) {
        session.log(
          `guix-p2p-substitute: ${storePath}: the daemon restarts the download (bad data from a source)\n`,
        );
        continue;
      }
      // Bytes that do not even parse may come from a lying source the daemon
      // has not caught yet (it checks the NarHash only at the end): drain the
      // stream; if the daemon then rewinds, start again with the next source.
      if (fetchError === undefined && (e as Error).name === "NarFormatError" && rewinds < 8) {
        if (await drainUntilRewind()) {
          session.log(
            `guix-p2p-substitute: ${storePath}: invalid NAR from a source; the daemon switched source\n`,
          );
          continue;
        }
      }
      reporter.abandon();
      await events.return(undefined).catch(() => {});
      if (fetchError !== undefined) session.daemon.reset();
      throw fetchError ?? e;
    }
  }
  // The NAR parsed completely; make sure the daemon had nothing more to send.
  const trailing = await events.next().catch((e) => ({ done: false, error: e }));
  const expected = nix32Encode(narinfo.narHashDigest);
  const actual = nix32Encode(result.digest!);
  if (
    !("done" in trailing && trailing.done) || result.size !== narinfo.narSize || actual !== expected
  ) {
    reporter.abandon();
    safeRemove(partial);
    await events.return(undefined).catch(() => {});
    session.daemon.reset();
    const detail = result.size !== narinfo.narSize
      ? ` (size ${result.size}, expected ${narinfo.narSize})`
      : !("done" in trailing && trailing.done)
      ? " (extra data after the NAR)"
      : "";
    throw new HashMismatchError(storePath, expected, actual, detail);
  }
  try {
    if (await exists(dest)) {
      throw new NarRestoreError("destination appeared during the download", dest);
    }
    await Deno.rename(partial, dest);
  } catch (e) {
    safeRemove(partial);
    throw e instanceof NarRestoreError ? e : new NarRestoreError(
      `cannot move the verified tree into place: ${(e as Error).message}`,
      dest,
    );
  }
  reporter.finish();
  let source: SourceKind = "http";
  let most = -1;
  for (const [kind, n] of bySource) if (n > most) [source, most] = [kind, n];
  return { line: successLine(narinfo.narHash, narinfo.narSize), narinfo, source };
}

/** Thrown inside an attempt's stream when the daemon rewinds to byte 0. */
class Rewind extends Error {
  constructor() {
    super("the daemon restarted the download from byte 0");
    this.name = "Rewind";
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

function safeRemove(path: string): void {
  try {
    removeTree(path);
  } catch {
    // nothing more can be done; the name is unique and not a store path
  }
}
