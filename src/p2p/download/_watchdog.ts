/**
 * The clock of a {@linkcode SwarmDownload}: every 200 ms it times out
 * requests (dropping a peer after 4 in a row), refreshes partial peers'
 * availability every 2 s, looks for more providers when the download is
 * stuck or uses fewer peers than it may, and fails a download that no new
 * block has advanced for too long, so the planner can fall back.
 *
 * @example
 * ```ts
 * const watchdog = new DownloadWatchdog(watched, { requestTimeoutMs: 20_000, stallTimeoutMs: 30_000 });
 * watchdog.discovered(); // the providers were just looked up
 * watchdog.start();
 * ```
 * @module
 */
import type { BlockScheduler } from "../scheduler/mod.ts";
import type { BlockChannel } from "./channel.ts";

/** How often a download looks for more providers while it uses fewer than `maxPeers`. */
const DISCOVER_EVERY_MS = 3000;
/** How often partial peers are asked for their current availability. */
const REFRESH_EVERY_MS = 2000;
/** How often the watchdog runs. */
const TICK_MS = 200;

/** What the watchdog reads from its download and asks it to do. */
export interface WatchedDownload {
  readonly scheduler: BlockScheduler;
  /** Whether the download has finished or failed. */
  finished(): boolean;
  /** The peers in use. */
  peers(): Set<string>;
  drop(peer: string, reason: string): void;
  refreshPartialPeers(): void;
  addChannels(channels: BlockChannel[]): void;
  fail(error: Error): void;
  pumpAll(): void;
}

/** The timing options of a download the watchdog applies. */
export interface WatchdogOptions {
  requestTimeoutMs: number;
  /** Give up when no block arrives for this long and nobody can provide what is missing. */
  stallTimeoutMs: number;
  /** Opens channels to more peers offering the same manifest. */
  discover?: ((exclude: Set<string>) => Promise<BlockChannel[]>) | undefined;
  /** Look for more providers every few seconds while fewer peers than this are used. */
  maxPeers?: number | undefined;
}

/**
 * Timeouts, refreshes, discovery and the stall guard of one download.
 *
 * @example
 * ```ts
 * const watchdog = new DownloadWatchdog(watched, { requestTimeoutMs: 20_000, stallTimeoutMs: 30_000 });
 * watchdog.progressed(); // a new block was written
 * watchdog.stop();
 * ```
 */
export class DownloadWatchdog {
  readonly #d: WatchedDownload;
  readonly #o: WatchdogOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastProgress = Date.now();
  #lastDiscovery = 0;
  #lastRefresh = 0;
  #discovering = false;

  /** Watches `download` with `options`; nothing runs before {@linkcode start}. */
  constructor(download: WatchedDownload, options: WatchdogOptions) {
    this.#d = download;
    this.#o = options;
  }

  /** The providers were just looked up: the next discovery waits. */
  discovered(): void {
    this.#lastDiscovery = Date.now();
  }

  /** Starts ticking. */
  start(): void {
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
  }

  /** Stops ticking. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  /** A new block was written. */
  progressed(): void {
    this.#lastProgress = Date.now();
  }

  #tick(): void {
    const d = this.#d;
    if (d.finished()) return;
    for (const { peer, index } of d.scheduler.expired()) {
      // An earlier entry of this batch may have dropped the peer (4 timeouts in a row).
      if (!d.scheduler.hasPeer(peer)) continue;
      d.scheduler.failed(peer, index, "timeout");
      const st = d.scheduler.peerStats(peer);
      if (st.consecutiveTimeouts >= 4) {
        d.drop(peer, `${st.consecutiveTimeouts} timeouts in a row`);
      }
    }
    const now = Date.now();
    if (now - this.#lastRefresh > REFRESH_EVERY_MS) {
      this.#lastRefresh = now;
      d.refreshPartialPeers();
    }
    this.check(false);
    d.pumpAll();
  }

  /**
   * Looks for more providers when stuck (or, with `noPeers`, when the last
   * peer is gone) or short of `maxPeers`; fails the download that has been
   * stuck for `stallTimeoutMs`, or idle for longer than it should ever be.
   */
  check(noPeers: boolean): void {
    const d = this.#d;
    const now = Date.now();
    const stuck = noPeers || d.scheduler.stuck;
    const peers = d.peers();
    // Peers that started the same download later announce themselves: use them (flash crowds).
    const periodic = peers.size < (this.#o.maxPeers ?? 0) &&
      now - this.#lastDiscovery > DISCOVER_EVERY_MS;
    if (
      (stuck || periodic) && this.#o.discover && !this.#discovering &&
      now - this.#lastDiscovery > 1000
    ) {
      this.#discovering = true;
      this.#lastDiscovery = now;
      this.#o.discover(new Set(peers)).then(
        (more) => d.addChannels(more),
        () => {},
      )
        .finally(() => (this.#discovering = false));
    }
    // Peers that answer everything but the blocks still missing (or answer them too late,
    // again and again) would hold the download forever: no new block for this long ends it.
    const idleLimit = Math.max(3 * this.#o.stallTimeoutMs, 2 * this.#o.requestTimeoutMs);
    if (!stuck && now - this.#lastProgress > idleLimit) {
      d.fail(
        new Error(
          `P2P download stalled: no new block for ${
            Math.round(idleLimit / 1000)
          } s (${d.scheduler.remaining} missing)`,
        ),
      );
      return;
    }
    if (stuck && now - this.#lastProgress > this.#o.stallTimeoutMs) {
      d.fail(
        new Error(
          `P2P download stalled: ${d.scheduler.remaining} block(s) missing and ${
            peers.size === 0 ? "no peer left" : "no peer has them"
          }`,
        ),
      );
    }
  }
}
