/**
 * Indexing store items for seeding, one at a time and at a bounded rate:
 * each item's NAR is read once from the store (never copied) to compute its
 * block hashes, at no more than `seed_index_rate` bytes per second, so that
 * seeding a profile or a whole store does not starve the machine's disk.
 * Work comes in jobs (`seed --closure`, `--profile`, `--store`,
 * `seed_profiles`) whose progress the CLI and the status report show;
 * single items substituted by this machine (auto-seeding) go first.
 *
 * @example
 * ```ts
 * const jobs = new SeedJobs({ index: (path, origin, throttle) => …, rate: 64 << 20 });
 * const job = jobs.submit("closure of /gnu/store/…-profile", () => catalog.closure([p]), "explicit");
 * jobs.list(); // [{ id: 1, state: "indexing", total: 312, done: 40, ... }]
 * ```
 * @module
 */
import { TokenBucket } from "../rate/token_bucket.ts";
import type { SeedOrigin } from "../store/deno_seeds.ts";

/**
 * A FIFO queue with O(1) `shift` (an array's `shift` moves every element: a
 * store of 50,000 items would cost seconds).
 *
 * @example
 * ```ts
 * const q = new Fifo<string>();
 * q.push("a");
 * q.shift(); // "a"
 * ```
 */
export class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  /** Items waiting. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Adds at the end. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** Removes from the front (undefined when empty). */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head]!;
    this.#items[this.#head++] = undefined as T;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Every item waiting, front first. */
  toArray(): T[] {
    return this.#items.slice(this.#head);
  }

  /** Empties the queue. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}

/** A job's progress. */
export interface SeedJob {
  id: number;
  /** What is seeded, for people: "closure of /gnu/store/…", "the store /gnu/store". */
  what: string;
  /** How the items were found (the store catalog's rule), once listed. */
  rule: string | null;
  state: "listing" | "indexing" | "done" | "failed" | "cancelled";
  /** Items to go through (null while listing). */
  total: number | null;
  /** Items gone through: seeded + already seeded + failed. */
  done: number;
  seeded: number;
  already: number;
  failed: number;
  /** NAR bytes read so far. */
  bytes: number;
  /** The first errors (at most 10), `path: message`. */
  errors: string[];
  startedAt: number;
  finishedAt: number | null;
}

/** What indexing one item did. */
export type IndexOutcome = { kind: "seeded"; narSize: number } | { kind: "already" };

/** Options of {@linkcode SeedJobs}. */
export interface SeedJobsInit {
  /** Indexes and seeds one item, calling `throttle` with each chunk's size. */
  index: (
    path: string,
    origin: SeedOrigin,
    throttle: (bytes: number) => Promise<void>,
    signal: AbortSignal,
  ) => Promise<IndexOutcome>;
  /** Bytes per second read while indexing (0: unlimited). */
  rate: number;
  /** Jobs kept for `list()` after they end. Default 20. */
  keep?: number;
  /** Called when a job ends. */
  onEnd?: (job: SeedJob) => void;
}

/** Reads an item under the rate limit: `throttle` is awaited with each chunk's size. */
export type IndexRun = (
  throttle: (bytes: number) => Promise<void>,
  signal: AbortSignal,
) => Promise<IndexOutcome>;

interface Task {
  path: string;
  run: IndexRun;
  job: SeedJob | undefined;
  resolve?: (outcome: IndexOutcome) => void;
  reject?: (e: unknown) => void;
}

/** The indexing queue. */
export class SeedJobs {
  #o: SeedJobsInit;
  #bucket: TokenBucket;
  #jobs: SeedJob[] = [];
  #nextId = 1;
  #urgent = new Fifo<Task>();
  #bulk = new Fifo<Task>();
  #running = false;
  #stopping = new AbortController();

  /** Creates the queue. */
  constructor(init: SeedJobsInit) {
    this.#o = init;
    this.#bucket = new TokenBucket({ bytesPerSecond: init.rate, burst: 4 << 20 });
  }

  /** Jobs in progress and the last ones that ended, newest first. */
  list(): SeedJob[] {
    return [...this.#jobs].reverse().map((j) => ({ ...j, errors: [...j.errors] }));
  }

  /** The job `id`, if kept. */
  get(id: number): SeedJob | undefined {
    const j = this.#jobs.find((x) => x.id === id);
    return j ? { ...j, errors: [...j.errors] } : undefined;
  }

  /** Items waiting (all jobs). */
  get pending(): number {
    return this.#urgent.length + this.#bulk.length;
  }

  /** Aborts everything (the daemon stops). */
  stop(): void {
    this.#stopping.abort(new Error("stopping"));
    for (const t of [...this.#urgent.toArray(), ...this.#bulk.toArray()]) {
      t.reject?.(this.#stopping.signal.reason);
    }
    this.#urgent.clear();
    this.#bulk.clear();
  }

  /**
   * Starts a job: `list` gives the items (it may take a while: a store's
   * daemon computing a closure), then each is indexed in turn.
   */
  submit(
    what: string,
    list: () => Promise<{ items: string[]; rule: string }>,
    origin: SeedOrigin,
  ): SeedJob {
    const job: SeedJob = {
      id: this.#nextId++,
      what,
      rule: null,
      state: "listing",
      total: null,
      done: 0,
      seeded: 0,
      already: 0,
      failed: 0,
      bytes: 0,
      errors: [],
      startedAt: Date.now(),
      finishedAt: null,
    };
    this.#jobs.push(job);
    while (this.#jobs.length > (this.#o.keep ?? 20)) {
      const old = this.#jobs.findIndex((j) => j.finishedAt !== null);
      if (old < 0) break;
      this.#jobs.splice(old, 1);
    }
    list().then(({ items: paths, rule }) => {
      if (this.#stopping.signal.aborted) return;
      job.rule = rule;
      job.total = paths.length;
      job.state = "indexing";
      for (const path of paths) {
        this.#bulk.push({
          path,
          job,
          run: (throttle, signal) => this.#o.index(path, origin, throttle, signal),
        });
      }
      if (paths.length === 0) this.#end(job, "done");
      this.#pump();
    }, (e) => {
      job.errors.push(String((e as Error).message ?? e));
      this.#end(job, "failed");
    });
    return job;
  }

  /** Runs `run` (indexing `path`) ahead of the jobs: an item this machine just substituted. */
  urgent(path: string, run: IndexRun): Promise<IndexOutcome> {
    return new Promise((resolve, reject) => {
      this.#urgent.push({ path, run, job: undefined, resolve, reject });
      this.#pump();
    });
  }

  #end(job: SeedJob, state: SeedJob["state"]): void {
    if (job.finishedAt !== null) return;
    job.state = state;
    job.finishedAt = Date.now();
    this.#o.onEnd?.(job);
  }

  #throttle = async (bytes: number): Promise<void> => {
    const wait = this.#bucket.take(bytes);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  };

  #pump(): void {
    if (this.#running) return;
    this.#running = true;
    void (async () => {
      try {
        for (;;) {
          const task = this.#urgent.shift() ?? this.#bulk.shift();
          if (!task || this.#stopping.signal.aborted) return;
          const job = task.job;
          try {
            const outcome = await task.run(async (n) => {
              if (job) job.bytes += n;
              await this.#throttle(n);
            }, this.#stopping.signal);
            if (job) {
              if (outcome.kind === "seeded") job.seeded++;
              else job.already++;
            }
            task.resolve?.(outcome);
          } catch (e) {
            if (job) {
              job.failed++;
              if (job.errors.length < 10) job.errors.push(`${task.path}: ${(e as Error).message}`);
            }
            task.reject?.(e);
          }
          if (job) {
            job.done++;
            if (job.done === job.total) {
              this.#end(job, job.failed === job.total ? "failed" : "done");
            }
          }
        }
      } finally {
        this.#running = false;
      }
    })();
  }
}
