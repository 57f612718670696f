/**
 * Two ways the planner moves a NAR besides streaming it: handing a consumer
 * that verifies NARs itself a local file and telling it how far it may read
 * ({@linkcode viaFile}), and downloading a whole NAR to check it against its
 * NarHash before anything is sent ({@linkcode verifyWhole}).
 *
 * @example
 * ```ts
 * const check = await verifyWhole(source, target, signal);
 * if (!check.ok) console.log(check.reason, check.lie);
 * ```
 * @module
 */
import { formatNarHash } from "../hash/nar_hash.ts";
import { Sha256 } from "../hash/sha256.ts";
import { NarHashMismatchError, SourceFaultError } from "./errors.ts";
import type { FetchTarget, FileNar, NarSource } from "./source.ts";
import type { FetchSink, SourceKind } from "./types.ts";

const PROGRESS_INTERVAL_MS = 200;
/** A file reader is told of new bytes once this many accumulated (or 10 ms passed). */
const AVAILABLE_STEP = 1 << 20;

/** What {@linkcode viaFile} reports as it goes. */
export type FileTransferEvent =
  | { kind: "source"; source: SourceKind; url: string }
  | {
    kind: "progress";
    progress: { bytes: number; narSize: number; source: SourceKind; transferred: number };
  };

/**
 * Hands the consumer a file and tells it how much it may read, until the end
 * or a failure; resolves with the bytes it may read (and the failure's reason).
 * Rejects only when `signal` aborts.
 */
export async function viaFile(
  source: NarSource,
  target: FetchTarget,
  sink: FetchSink,
  signal: AbortSignal,
  report: (e: FileTransferEvent) => void,
): Promise<{ sent: number; error?: string }> {
  let file: FileNar;
  try {
    file = await source.openFile!({ signal });
  } catch (e) {
    if (signal.aborted) throw e;
    return { sent: 0, error: (e as Error).message };
  }
  let sent = 0;
  try {
    await sink.file!({ source: source.kind, url: source.url, path: file.path });
    report({ kind: "source", source: source.kind, url: source.url });
    let lastProgress = 0;
    let seen = 0;
    let toldAt = 0;
    while (sent < target.narSize) {
      seen = await file.grown(seen, signal);
      if (seen > target.narSize) throw new SourceFaultError(`more than NarSize bytes`);
      const t = performance.now();
      // One message per MiB or per 10 ms, not per block.
      if (seen < target.narSize && seen - sent < AVAILABLE_STEP && t - toldAt < 10) continue;
      sent = seen;
      toldAt = t;
      await sink.available!(sent);
      if (t - lastProgress >= PROGRESS_INTERVAL_MS || sent === target.narSize) {
        lastProgress = t;
        await sink.progress(file.transferred(), null);
        report({
          kind: "progress",
          progress: {
            bytes: sent,
            narSize: target.narSize,
            source: source.kind,
            transferred: file.transferred(),
          },
        });
      }
    }
    return { sent };
  } catch (e) {
    if (signal.aborted) throw e;
    return { sent, error: (e as Error).message };
  } finally {
    file.release();
  }
}

/**
 * Downloads the whole NAR of `source` and checks it against the NarHash;
 * `lie` is true only when the NAR was proven wrong (not for a stall or a lost
 * peer).
 */
export async function verifyWhole(
  source: NarSource,
  target: FetchTarget,
  signal: AbortSignal,
): Promise<{ ok: true } | { ok: false; reason: string; lie: boolean }> {
  const h = new Sha256();
  try {
    const opened = await source.open(0, { signal });
    for await (const chunk of opened.stream) {
      h.update(chunk);
      if (h.byteLength > target.narSize) {
        return { ok: false, reason: `more than NarSize (${target.narSize}) bytes`, lie: true };
      }
    }
  } catch (e) {
    if (signal.aborted) throw e;
    return { ok: false, reason: (e as Error).message, lie: false };
  }
  if (h.byteLength !== target.narSize) {
    return { ok: false, reason: `${h.byteLength} bytes, NarSize is ${target.narSize}`, lie: false };
  }
  const digest = h.digest();
  const equal = digest.length === target.narHashDigest.length &&
    digest.every((x, i) => x === target.narHashDigest[i]);
  return equal ? { ok: true } : {
    ok: false,
    lie: true,
    reason:
      new NarHashMismatchError(target.storePath, target.narHash, formatNarHash(digest)).message,
  };
}
