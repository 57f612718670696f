/**
 * `--substitute`: one item from an authorized narinfo, restored, verified and
 * moved into place. The NAR streams from the daemon (or, for a P2P download
 * the daemon holds, from its file, read here directly) straight into a
 * restore of a fresh sibling directory of DEST while it is hashed; only when
 * the whole NAR hashes to the signed NarHash with the signed NarSize is the
 * directory renamed to DEST. So nothing unverified ever appears at DEST, and
 * every failure leaves nothing behind. A mismatch in a NAR read from a file
 * is reported to the daemon (which checks its copy and drops it if wrong)
 * and the item is fetched once more, every byte through the daemon.
 *
 * @example
 * ```ts
 * const status = await substituteItem({ storePath, dest }, session, reporter);
 * fd4.write(status.line);
 * ```
 * @module
 */
import type { FetchEvent } from "../control/client.ts";
import { ControlProtocolError } from "../control/errors.ts";
import type { SourceKind } from "../fetch/types.ts";
import { hexEncode } from "../encoding/hex.ts";
import { nix32Encode } from "../encoding/nix32.ts";
import { removeTree, restoreNarToPath } from "../fs/mod.ts";
import { NarRestoreError } from "../nar/mod.ts";
import type { Narinfo } from "../narinfo/mod.ts";
import { openDaemonFile } from "./deno_file_nar.ts";
import { fetchDeadlineMs, withDeadline } from "./deadline.ts";
import { HashMismatchError, NoSubstituteError } from "./errors.ts";
import { FileReadError, NarFeed, Rewind } from "./_nar_feed.ts";
import { authorizeItem } from "./query.ts";
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

/** How many times the daemon may restart a download from byte 0 within one fetch. */
const MAX_REWINDS = 8;

/** Substitutes `storePath` into `dest`. Throws on failure (see status.ts for the mapping). */
export async function substituteItem(
  request: { storePath: string; dest: string },
  session: Session,
  reporter: ProgressReporter,
): Promise<Substituted> {
  const { storePath, dest } = request;
  let narinfo: Narinfo | undefined;
  for (let attempt = 0;; attempt++) {
    // First attempt: by store path (the narinfo comes first, then its NAR: one round trip),
    // reading files when the daemon offers them. After a mismatch in one, once more with
    // every byte through the daemon (which hashes what it sends and can rewind).
    const files = attempt === 0;
    const fetch = await openFetch(storePath, narinfo, session, files);
    narinfo = fetch.narinfo;
    if (attempt === 0) {
      try {
        await assertAbsent(dest, "destination already exists; guix-daemon should have removed it");
      } catch (e) {
        session.daemon.reset(); // the NAR is on its way
        throw e;
      }
    }
    const expected = nix32Encode(narinfo.narHashDigest);
    const partial = `${dest}.guix-p2p-${hexEncode(crypto.getRandomValues(new Uint8Array(6)))}`;
    const got = await fetchAndRestore(fetch, storePath, dest, partial, session, reporter);
    const actual = nix32Encode(got.digest);
    if (got.clean && got.size === narinfo.narSize && actual === expected) {
      await moveIntoPlace(partial, dest);
      reporter.finish();
      return { line: successLine(narinfo.narHash, narinfo.narSize), narinfo, source: got.source };
    }
    reporter.abandon();
    safeRemove(partial);
    if (got.usedFile && attempt === 0) {
      session.log(
        `guix-p2p-substitute: ${storePath}: the NAR from the daemon's file does not match its NarHash; fetching it again\n`,
      );
      await reportMismatch(session, storePath, narinfo.narHash);
      continue;
    }
    session.daemon.reset();
    const detail = got.size !== narinfo.narSize
      ? ` (size ${got.size}, expected ${narinfo.narSize})`
      : !got.clean
      ? " (extra data after the NAR)"
      : "";
    throw new HashMismatchError(storePath, expected, actual, detail);
  }
}

/** A fetch under way: the authorized narinfo and the NAR's events. */
interface OpenFetch {
  narinfo: Narinfo;
  events: AsyncGenerator<FetchEvent>;
}

/**
 * Starts the fetch of `storePath`. Without a `known` narinfo the daemon
 * resolves the path and sends its narinfo first, which this process
 * authorizes itself before reading a byte of the NAR.
 */
async function openFetch(
  storePath: string,
  known: Narinfo | undefined,
  session: Session,
  files: boolean,
): Promise<OpenFetch> {
  const client = await session.daemon.client();
  const events = client.fetch({
    storePath,
    ...(known ? { narHash: known.narHash, narSize: known.narSize } : {}),
    ...(session.urls ? { urls: session.urls } : {}),
    ...(session.policy ? { policy: session.policy } : {}),
    ...(files ? { files: true } : {}),
  });
  if (known) return { narinfo: known, events };
  for (;;) {
    const next = await events.next();
    if (next.done) throw new ControlProtocolError(`the daemon sent no narinfo for ${storePath}`);
    const event = next.value;
    if (event.kind === "progress") continue; // keep-alives while the daemon resolves the path
    if (event.kind !== "narinfo") {
      session.daemon.reset();
      throw new ControlProtocolError(`the daemon sent "${event.kind}" before the narinfo`);
    }
    const narinfo = await authorizeItem(event.item, session);
    if (narinfo) return { narinfo, events };
    if (event.item.kind === "found") session.daemon.reset(); // its NAR is on its way
    else await events.return(undefined); // the request is over
    throw new NoSubstituteError(`no valid substitute for '${storePath}'`);
  }
}

/** One fetch restored into `partial` (which exists afterwards unless it throws). */
async function fetchAndRestore(
  fetch: OpenFetch,
  storePath: string,
  dest: string,
  partial: string,
  session: Session,
  reporter: ProgressReporter,
): Promise<
  { digest: Uint8Array; size: number; clean: boolean; usedFile: boolean; source: SourceKind }
> {
  const { narinfo } = fetch;
  const deadlineMs = fetchDeadlineMs(narinfo.narSize, session.config);
  const fileDeadline = Date.now() + deadlineMs;
  const feed = new NarFeed(
    withDeadline(fetch.events, deadlineMs, storePath),
    {
      dest,
      reporter,
      openFile: (path) =>
        openDaemonFile(path, {
          cacheDir: session.config.cache_dir,
          narHashHex: hexEncode(narinfo.narHashDigest),
          deadline: fileDeadline,
        }),
    },
  );
  let result;
  for (let rewinds = 0;; rewinds++) {
    try {
      result = await restoreNarToPath(feed.attempt(), partial, {
        maxSize: narinfo.narSize,
        hash: true,
      });
      break;
    } catch (e) {
      if (e instanceof Rewind && rewinds < MAX_REWINDS) {
        session.log(
          `guix-p2p-substitute: ${storePath}: the daemon restarts the download (bad data from a source)\n`,
        );
        continue;
      }
      // Bytes that do not even parse may come from a lying source the daemon has not caught
      // yet (it checks the NarHash only at the end): drain the stream (at most NarSize bytes);
      // if the daemon then rewinds, start again with the next source.
      if (
        feed.fetchError === undefined && (e as Error).name === "NarFormatError" &&
        rewinds < MAX_REWINDS && !feed.usedFile
      ) {
        if (await feed.drainUntilRewind(narinfo.narSize)) {
          session.log(
            `guix-p2p-substitute: ${storePath}: invalid NAR from a source; the daemon switched source\n`,
          );
          continue;
        }
      }
      reporter.abandon();
      await feed.close();
      const fileFailed = feed.fetchError instanceof FileReadError;
      if (feed.fetchError !== undefined && !fileFailed) session.daemon.reset();
      if (
        feed.usedFile &&
        (fileFailed || (feed.fetchError === undefined && (e as Error).name === "NarFormatError"))
      ) {
        // A file that does not parse, or is gone (the daemon dropped a copy its own check
        // found wrong), counts as a mismatch: report it and try once more through the daemon.
        session.daemon.reset(); // the fetch was abandoned midway
        safeRemove(partial);
        return {
          digest: new Uint8Array(32),
          size: feed.received,
          clean: false,
          usedFile: true,
          source: feed.source,
        };
      }
      throw feed.fetchError ?? e;
    }
  }
  // The NAR parsed completely; make sure the daemon had nothing more to send.
  const clean = await feed.endedCleanly();
  await feed.close();
  if (feed.fetchError !== undefined && !clean) session.daemon.reset();
  return {
    digest: result.digest!,
    size: result.size,
    clean,
    usedFile: feed.usedFile,
    source: feed.source,
  };
}

async function reportMismatch(session: Session, storePath: string, narHash: string) {
  try {
    const client = await session.daemon.client();
    await client.report({ storePath, narHash, outcome: "hash-mismatch" }, {
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    session.log(`guix-p2p-substitute: could not report the mismatch: ${(e as Error).message}\n`);
    session.daemon.reset();
  }
}

async function moveIntoPlace(partial: string, dest: string): Promise<void> {
  try {
    await assertAbsent(dest, "destination appeared during the download");
    await Deno.rename(partial, dest);
  } catch (e) {
    safeRemove(partial);
    throw e instanceof NarRestoreError ? e : new NarRestoreError(
      `cannot move the verified tree into place: ${(e as Error).message}`,
      dest,
    );
  }
}

async function assertAbsent(path: string, message: string): Promise<void> {
  try {
    await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  throw new NarRestoreError(message, path);
}

function safeRemove(path: string): void {
  try {
    removeTree(path);
  } catch {
    // nothing more can be done; the name is unique and not a store path
  }
}
