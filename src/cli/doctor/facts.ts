/**
 * What `guix-p2p doctor` finds out about the machine before judging it: plain
 * data gathered by `deno_gather.ts` and checked by the pure functions of
 * `checks.ts`.
 *
 * @example
 * ```ts
 * import type { DoctorFacts } from "./facts.ts";
 * const facts: Partial<DoctorFacts> = { now: Date.now() };
 * ```
 * @module
 */

/** One substitute server's answer to `GET <url>/nix-cache-info`. */
export interface HttpFact {
  url: string;
  /** HTTP status, when it answered. */
  status?: number;
  /** The `Date` header, when present. */
  date?: string;
  /** When the answer came (ms since the epoch), to compare with `date`. */
  at?: number;
  /** Why it did not answer. */
  error?: string;
}

/** A `listen` address and whether its port could be bound (when the daemon is not on it). */
export interface ListenFact {
  address: string;
  host: string;
  port: number;
  /** Set when the doctor tried to bind it: "free", or the error (e.g. address in use). */
  probe?: "free" | string;
}

/** A guix-daemon process and its environment. */
export interface GuixDaemonFact {
  pid: number;
  /** Its environment, or undefined when `/proc/<pid>/environ` could not be read. */
  env?: Record<string, string>;
  /** Why the environment could not be read. */
  error?: string;
  /** For each `GUIX_EXTENSIONS_PATH` entry: whether it holds guix-p2p's `substitute.scm`. */
  extensionDirs?: { dir: string; ours: boolean }[];
}

/** Everything the checks look at. */
export interface DoctorFacts {
  /** When the facts were gathered (ms since the epoch). */
  now: number;
  config: {
    /** The config file read (undefined: defaults). */
    file?: string;
    /** Why the configuration could not be loaded. */
    error?: string;
    /** Original guix-p2p keys read from it. */
    warnings: string[];
    /** Which daemon the CLI found, and how. */
    origin?: "explicit" | "user" | "service";
  };
  /** The control socket. */
  socket: {
    path: string;
    /** lstat of it (undefined: absent). */
    stat?: { isSocket: boolean; mode: number; gid: number; group?: string };
    /** `socket_group` from the configuration ("" keeps the daemon's group). */
    wantGroup: string;
    /** Why connecting failed (undefined: it answered). */
    connectError?: string;
    /** Other sockets tried before (user's, service's), and why they failed. */
    tried: { socket: string; error: string }[];
  };
  /** The daemon's `status` and `peers` answers (undefined: it did not answer). */
  daemon?: { status: Record<string, unknown>; peers: Record<string, unknown>[] };
  acl: {
    path: string;
    /** Uppercase hex of each Ed25519 key, in file order. */
    keys: string[];
    /** Entries that are not Ed25519 keys (authorized but unusable). */
    otherEntries: number;
    error?: string;
  };
  http: HttpFact[];
  listen: ListenFact[];
  bootstrapPeers: string[];
  /** guix-daemon processes (undefined: /proc could not be read). */
  guixDaemons?: GuixDaemonFact[];
  cache: { path: string; availableBytes?: number; error?: string; cacheSize: number };
}

/** A check's verdict. */
export type CheckStatus = "ok" | "warn" | "fail" | "unknown";

/** One line of the report. */
export interface CheckResult {
  id: string;
  status: CheckStatus;
  /** What was found, one sentence. */
  summary: string;
  /** What to do about it (for warn and fail). */
  fix?: string;
}
