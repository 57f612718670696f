/**
 * Turns the events of one `fetch` into the NAR streams that restore
 * attempts read: data frames as they come, or — when the daemon names a file
 * (a P2P download it holds) — the file's bytes as `available` frames allow;
 * a `source` frame at a lower offset than what was received (a rewind: the
 * daemon's whole-NAR check failed) ends the current attempt so a fresh one
 * starts with the bytes that follow. Progress goes to the reporter.
 *
 * @example
 * ```ts
 * const feed = new NarFeed(client.fetch(params), { dest, reporter, openFile });
 * await restoreNarToPath(feed.attempt(), partial, { hash: true });
 * ```
 * @module
 */
import type { FetchEvent } from "../control/client.ts";
import type { SourceKind } from "../fetch/types.ts";
import type { DaemonFile } from "./deno_file_nar.ts";
import { ByteGc } from "../std/gc.ts";
import type { ProgressReporter } from "./traces.ts";

/** Thrown inside an attempt's stream when the daemon rewinds to byte 0. */
export class Rewind extends Error {
  constructor() {
    super("the daemon restarted the download from byte 0");
    this.name = "Rewind";
  }
}

/** A daemon-named file could not be opened or read (the daemon may have dropped a bad copy). */
export class FileReadError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FileReadError";
  }
}

/** Largest read from a daemon-named file at once. */
const FILE_CHUNK = 1 << 20;

/** Options of {@linkcode NarFeed}. */
export interface NarFeedOptions {
  dest: string;
  reporter: ProgressReporter;
  /** Opens (and checks) a file the daemon names. */
  openFile: (path: string) => Promise<DaemonFile>;
}

/** One fetch's events as restore attempts. */
export class NarFeed {
  #events: AsyncGenerator<FetchEvent>;
  #o: NarFeedOptions;
  #received = 0;
  #current: SourceKind = "http";
  #bySource = new Map<SourceKind, number>();
  #file: { path: string; handle?: DaemonFile; available: number } | undefined;
  /** An error of the fetch itself (daemon gone, daemon error), as opposed to a rewind. */
  fetchError: unknown;
  /** Whether any byte came from a daemon-named file. */
  usedFile = false;

  /** Wraps the event stream of a fetch. */
  constructor(events: AsyncGenerator<FetchEvent>, options: NarFeedOptions) {
    this.#events = events;
    this.#o = options;
  }

  /** Where most NAR bytes came from. */
  get source(): SourceKind {
    let best: SourceKind = "http";
    let most = -1;
    for (const [kind, n] of this.#bySource) if (n > most) [best, most] = [kind, n];
    return best;
  }

  /** NAR bytes received so far in this attempt. */
  get received(): number {
    return this.#received;
  }

  /** The stream of one restore attempt. */
  attempt(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          for (;;) {
            const file = this.#file;
            if (file && this.#received < file.available) {
              return controller.enqueue(await this.#readFile(file));
            }
            const next = await this.#events.next();
            if (next.done) return controller.close();
            if (this.#onEvent(next.value, controller)) return;
          }
        } catch (e) {
          if (!(e instanceof Rewind)) this.fetchError ??= e;
          controller.error(e);
        }
      },
    }, { highWaterMark: 0 });
  }

  /** Handles one event; true when it enqueued bytes. */
  #onEvent(ev: FetchEvent, controller: ReadableStreamDefaultController<Uint8Array>): boolean {
    const reporter = this.#o.reporter;
    switch (ev.kind) {
      case "narinfo":
        throw new Error("daemon sent a narinfo in the middle of a NAR");
      case "data":
        this.#count(ev.bytes.length);
        controller.enqueue(ev.bytes);
        return true;
      case "file":
        this.#closeFile();
        if (this.#received !== 0) throw new Error(`daemon named a file at byte ${this.#received}`);
        this.#file = { path: ev.path, available: 0 };
        this.#current = ev.source;
        this.usedFile = true;
        reporter.start(this.#o.dest, ev.url, undefined);
        return false;
      case "available":
        if (!this.#file || ev.bytes < this.#file.available) {
          throw new Error(`"available" ${ev.bytes} without a file, or shrinking`);
        }
        this.#file.available = ev.bytes;
        return false;
      case "source":
        this.#closeFile();
        this.#file = undefined;
        if (ev.offset < this.#received) {
          if (ev.offset !== 0) throw new Error(`daemon rewound to byte ${ev.offset}, not 0`);
          this.#received = 0;
          this.#bySource.clear();
          this.#current = ev.source;
          reporter.start(this.#o.dest, ev.url, ev.size ?? undefined);
          throw new Rewind();
        }
        if (ev.offset !== this.#received) {
          throw new Error(`daemon resumed at byte ${ev.offset}, received ${this.#received}`);
        }
        this.#current = ev.source;
        reporter.start(this.#o.dest, ev.url, ev.size ?? undefined);
        return false;
      case "progress":
        reporter.report(ev.transferred);
        return false;
      case "done":
        return false;
    }
  }

  async #readFile(file: { path: string; handle?: DaemonFile; available: number }) {
    const n = Math.min(FILE_CHUNK, file.available - this.#received);
    let bytes;
    try {
      file.handle ??= await this.#o.openFile(file.path);
      bytes = await file.handle.read(this.#received, n);
    } catch (e) {
      throw new FileReadError(`${file.path}: ${(e as Error).message}`, { cause: e });
    }
    if (bytes.length !== n) {
      throw new FileReadError(`${file.path} ends at byte ${this.#received + bytes.length}`);
    }
    this.#count(n);
    // Each chunk is a fresh 1 MiB buffer, dead once hashed and written.
    this.#gc.add(n);
    return bytes;
  }

  #gc = new ByteGc(16 << 20);

  #count(n: number): void {
    this.#received += n;
    this.#bySource.set(this.#current, (this.#bySource.get(this.#current) ?? 0) + n);
  }

  #closeFile(): void {
    this.#file?.handle?.close();
  }

  /** Discards events until the fetch ends (false) or the daemon rewinds to byte 0 (true). */
  async drainUntilRewind(limit: number): Promise<boolean> {
    try {
      for (;;) {
        const next = await this.#events.next();
        if (next.done) return false;
        const ev = next.value;
        if (ev.kind === "data") {
          this.#received += ev.bytes.length;
          if (this.#received > limit) throw new Error(`more than ${limit} bytes while draining`);
        } else if (ev.kind === "source" && ev.offset === 0 && this.#received > 0) {
          this.#closeFile();
          this.#file = undefined;
          this.#received = 0;
          this.#bySource.clear();
          this.#current = ev.source;
          this.#o.reporter.start(this.#o.dest, ev.url, ev.size ?? undefined);
          return true;
        } else if (ev.kind === "done") return false;
      }
    } catch (e) {
      this.fetchError ??= e;
      return false;
    }
  }

  /** Whether the fetch ended cleanly right after the NAR (no extra data). */
  async endedCleanly(): Promise<boolean> {
    try {
      for (;;) {
        const next = await this.#events.next();
        if (next.done) return true;
        if (next.value.kind === "data") return false;
        if (next.value.kind === "available" && next.value.bytes > this.#received) return false;
      }
    } catch (e) {
      this.fetchError ??= e;
      return false;
    }
  }

  /** Stops the fetch and closes any file. */
  async close(): Promise<void> {
    this.#closeFile();
    await this.#events.return(undefined).catch(() => {});
  }
}
