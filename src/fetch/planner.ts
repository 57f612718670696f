/**
 * The fetch planner: turns a signed (storePath, NarHash, NarSize) into one
 * continuous stream of NAR bytes, trying sources in policy order and resuming
 * at the byte offset reached when a source fails midway. It hashes what it
 * sends and fails the transfer if the result does not match the NarHash (the
 * helper checks again: it trusts neither the daemon nor the peers).
 *
 * A consumer that reads files and verifies the NAR itself (the substitute
 * helper) is given the path of a P2P download's file instead of the bytes:
 * no copy through the daemon and no second hash here; it reports a mismatch
 * back (`report`), and the download's own check runs off the event loop.
 *
 * Policies: `http-only`; `http-first` (HTTP, then the swarm); `p2p-first`
 * (the swarm when at least `min_providers` are found within a size-aware
 * budget, else HTTP); `p2p-only`.
 *
 * @example
 * ```ts
 * const planner = new FetchPlanner({ http, p2p, emit });
 * const bytes = await planner.fetch(request, sink, { signal, policy: "p2p-first" });
 * ```
 * @module
 */
import type { FetchSink, Policy } from "./types.ts";
import { formatNarHash } from "../hash/nar_hash.ts";
import { Sha256 } from "../hash/sha256.ts";
import { NarHashMismatchError, NoSourceError, SourceFaultError } from "./errors.ts";
import type { TransferEmitter, TransferEvents } from "./events.ts";
import type { FetchTarget, NarSource, SourceFactory } from "./source.ts";
import { type FileTransferEvent, verifyWhole, viaFile } from "./_transfers.ts";
import { concatBytes } from "../encoding/bytes.ts";

const CHUNK = 256 * 1024;
const PROGRESS_INTERVAL_MS = 200;

/** Plans and runs NAR transfers. */
export class FetchPlanner {
  #http: SourceFactory;
  #p2p: SourceFactory | undefined;
  #emit: TransferEmitter;
  #nextTransfer = 1;

  /** Creates a planner; without `p2p`, P2P policies find no peer source. */
  constructor(options: { http: SourceFactory; p2p?: SourceFactory; emit?: TransferEmitter }) {
    this.#http = options.http;
    this.#p2p = options.p2p;
    this.#emit = options.emit ?? (() => {});
  }

  /** Streams the NAR of `target` into `sink`; resolves with the byte count (= NarSize). */
  async fetch(
    target: FetchTarget,
    sink: FetchSink,
    options: {
      signal: AbortSignal;
      policy: Policy;
      /** The consumer can discard what it got and start again (the helper can, an HTTP response cannot). */
      rewind?: boolean;
      /**
       * Without rewind: whether sources marked `verifyFirst` (uncorroborated P2P manifests) are
       * checked in full before their first byte is sent. Default true.
       */
      verifyFirst?: boolean;
    },
  ): Promise<number> {
    const transfer = this.#nextTransfer++;
    const started = performance.now();
    this.#emit("transfer:started", {
      transfer,
      storePath: target.storePath,
      narHash: target.narHash,
      narSize: target.narSize,
      policy: options.policy,
    });
    let hash = new Sha256();
    let mismatch: NarHashMismatchError | undefined;
    const attempts: string[] = [];
    const used: TransferEvents["transfer:done"]["sources"] = [];
    let sent = 0;
    let preverified = false;
    /** Bytes the consumer read from a file (not hashed here: the consumer verifies). */
    let fromFile = 0;
    const failed = (source: NarSource, offset: number, error: string, where = "") => {
      attempts.push(`${source.url}${where}: ${error}`);
      this.#emit("transfer:source-failed", {
        transfer,
        source: source.kind,
        url: source.url,
        offset,
        error,
      });
    };
    try {
      for await (const source of this.#plan(target, options)) {
        if (sent === target.narSize && sent > 0) break;
        const before = sent;
        if (sent === 0 && options.rewind && sink.file && source.openFile) {
          const r = await viaFile(
            source,
            target,
            sink,
            options.signal,
            (e) => this.#emitFile(transfer, e),
          );
          if (r.sent > 0) {
            used.push({ source: source.kind, url: source.url, bytes: r.sent, transferred: 0 });
          }
          if (r.sent === target.narSize) {
            this.#emit("transfer:done", {
              transfer,
              storePath: target.storePath,
              narHash: target.narHash,
              bytes: r.sent,
              durationMs: performance.now() - started,
              sources: used,
            });
            return r.sent;
          }
          // A download that failed midway: the next source continues from here (data frames).
          if (r.error) failed(source, r.sent, r.error, ` at byte ${r.sent}`);
          sent = fromFile = r.sent;
          continue;
        }
        let opened;
        try {
          preverified = false;
          if (
            source.verifyFirst && !options.rewind && options.verifyFirst !== false && sent === 0
          ) {
            // Download and check the whole NAR before sending any of it.
            const check = await verifyWhole(source, target, options.signal);
            if (!check.ok) {
              // Only a NAR proven wrong is a lie; a stall or a lost peer is not.
              if (check.lie) source.rejected?.();
              failed(source, 0, check.reason);
              continue;
            }
            preverified = true;
          }
          opened = await source.open(sent, { signal: options.signal });
        } catch (e) {
          if (options.signal.aborted) throw e;
          failed(source, sent, (e as Error).message);
          continue;
        }
        await sink.source({
          source: source.kind,
          url: source.url,
          offset: sent,
          size: source.size,
        });
        this.#emit("transfer:source", {
          transfer,
          source: source.kind,
          url: source.url,
          offset: sent,
        });
        const position = { sent };
        try {
          // A pre-verified NAR is read back from our own cache: no second hash pass.
          await this.#pump(
            opened,
            source,
            target,
            preverified ? undefined : hash,
            position,
            sink,
            transfer,
          );
          sent = position.sent;
        } catch (e) {
          if (options.signal.aborted) throw e;
          // Only whole flushed chunks were hashed and sent: resume exactly there.
          sent = position.sent;
          failed(source, sent, (e as Error).message, ` at byte ${sent}`);
        } finally {
          opened.stream.cancel().catch(() => {});
        }
        const contributed = sent - before;
        if (contributed > 0) {
          used.push({
            source: source.kind,
            url: source.url,
            bytes: contributed,
            transferred: opened.transferred(),
            ...(opened.detail ? { detail: opened.detail() } : {}),
          });
        }
        if (sent === target.narSize && fromFile > 0) {
          // Part came from a file the consumer read itself: it checks the whole NAR (and the
          // P2P layer checks its own copy); nothing was hashed here, so nothing is vouched for.
          this.#emit("transfer:done", {
            transfer,
            storePath: target.storePath,
            narHash: target.narHash,
            bytes: sent,
            durationMs: performance.now() - started,
            sources: used,
          });
          return sent;
        }
        if (sent === target.narSize) {
          // Only a source that gave every byte from 0 is judged by the result: a NAR made of
          // several sources' bytes proves nothing about any one of them (each P2P download
          // is checked on its own when it completes).
          const whole = before === 0;
          const digest = preverified ? target.narHashDigest : hash.digest();
          if (!equal(digest, target.narHashDigest)) {
            mismatch = new NarHashMismatchError(
              target.storePath,
              target.narHash,
              formatNarHash(digest),
            );
            if (whole) source.rejected?.();
            failed(source, sent, mismatch.message);
            // The whole NAR was wrong. With a consumer that can rewind, start over
            // from byte 0 with the next source; otherwise fail now.
            if (!options.rewind) throw mismatch;
            sent = 0;
            hash = new Sha256();
            used.length = 0;
            continue;
          }
          if (whole) source.verified?.();
          this.#emit("transfer:done", {
            transfer,
            storePath: target.storePath,
            narHash: target.narHash,
            bytes: sent,
            durationMs: performance.now() - started,
            sources: used,
          });
          return sent;
        }
      }
      if (mismatch && sent === 0) throw mismatch;
      throw new NoSourceError(
        target.storePath,
        attempts,
        attempts.length ? "every source failed" : `no source for policy ${options.policy}`,
      );
    } catch (e) {
      this.#emit("transfer:failed", {
        transfer,
        storePath: target.storePath,
        error: (e as Error).message,
      });
      throw e;
    }
  }

  async #pump(
    opened: { stream: ReadableStream<Uint8Array>; transferred(): number },
    source: NarSource,
    target: FetchTarget,
    hash: Sha256 | undefined,
    position: { sent: number },
    sink: FetchSink,
    transfer: number,
  ): Promise<void> {
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    let lastProgress = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const out = pending.length === 1 ? pending[0]! : concatBytes(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      hash?.update(out);
      await sink.data(out);
      position.sent += out.length;
    };
    for await (const chunk of opened.stream) {
      if (position.sent + pendingBytes + chunk.length > target.narSize) {
        throw new SourceFaultError(`more than NarSize (${target.narSize}) bytes`);
      }
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= CHUNK) await flush();
      const now = performance.now();
      if (now - lastProgress >= PROGRESS_INTERVAL_MS) {
        lastProgress = now;
        const transferred = opened.transferred();
        await sink.progress(transferred, source.size);
        this.#emit("transfer:progress", {
          transfer,
          bytes: position.sent + pendingBytes,
          narSize: target.narSize,
          source: source.kind,
          transferred,
        });
      }
    }
    await flush();
    await sink.progress(opened.transferred(), source.size);
    if (position.sent < target.narSize) {
      throw new SourceFaultError(`stream ended at byte ${position.sent} of ${target.narSize}`);
    }
  }

  #emitFile(transfer: number, e: FileTransferEvent): void {
    if (e.kind === "source") {
      this.#emit("transfer:source", {
        transfer,
        source: e.source,
        url: e.url,
        offset: 0,
        file: true,
      });
    } else {
      this.#emit("transfer:progress", { transfer, ...e.progress });
    }
  }

  async *#plan(
    target: FetchTarget,
    options: { signal: AbortSignal; policy: Policy },
  ): AsyncGenerator<NarSource> {
    const http = () => this.#http.sources(target, options);
    const p2p = () => this.#p2p?.sources(target, options) ?? empty();
    switch (options.policy) {
      case "http-only":
        yield* http();
        break;
      case "http-first":
        yield* http();
        yield* p2p();
        break;
      case "p2p-first":
        yield* p2p();
        yield* http();
        break;
      case "p2p-only":
        yield* p2p();
        break;
    }
  }
}

async function* empty(): AsyncGenerator<NarSource> {}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
