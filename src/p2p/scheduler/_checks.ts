/**
 * The scheduler's options resolved to their defaults and checked, and the
 * checks of its API's arguments: every error names the call, the value and
 * the allowed range.
 *
 * @example
 * ```ts
 * import { schedulerSettings } from "./_checks.ts";
 * schedulerSettings({ blockCount: 8, now: () => 0, requestTimeoutMs: 1000 }).maxWindow; // 64
 * ```
 * @module
 */
import { SchedulerError } from "./errors.ts";
import type { BlockAvailability } from "./_peer.ts";
import type { BlockSchedulerOptions, FailureReason } from "./types.ts";

/** {@linkcode BlockSchedulerOptions} with every default applied. */
export interface SchedulerSettings {
  blockCount: number;
  now: () => number;
  requestTimeoutMs: number;
  initialWindow: number;
  maxWindow: number;
  endgameDuplicates: number;
  rarestFirst: boolean;
  rarityCap: number;
  maxQueueDelayMs: number;
  stallMinMs: number;
  preferInOrder: boolean;
  tieSeed: number | undefined;
}

/** Applies the defaults and checks every option. @throws {SchedulerError} */
export function schedulerSettings(o: BlockSchedulerOptions): SchedulerSettings {
  checkInt("blockCount", o.blockCount, 0, 2 ** 32 - 1);
  if (typeof o.now !== "function") {
    throw new SchedulerError(`BlockScheduler: now must be a function, got ${typeof o.now}`);
  }
  if (!(o.requestTimeoutMs > 0) || !Number.isFinite(o.requestTimeoutMs)) {
    throw new SchedulerError(
      `BlockScheduler: requestTimeoutMs must be a positive number, got ${o.requestTimeoutMs}`,
    );
  }
  const maxWindow = o.maxWindow ?? 64;
  checkInt("maxWindow", maxWindow, 1, 65536);
  const initialWindow = o.initialWindow ?? Math.min(4, maxWindow);
  checkInt("initialWindow", initialWindow, 1, maxWindow);
  const dup = o.endgameDuplicates ?? 2;
  checkInt("endgameDuplicates", dup, 0, 16);
  const queueDelay = o.maxQueueDelayMs ?? 500;
  const rarityCap = o.rarityCap ?? 3;
  if (!(rarityCap >= 2) || (Number.isFinite(rarityCap) && !Number.isInteger(rarityCap))) {
    throw new SchedulerError(
      `BlockScheduler: rarityCap must be an integer >= 2 or Infinity, got ${rarityCap}`,
    );
  }
  if (!(queueDelay > 0)) {
    throw new SchedulerError(
      `BlockScheduler: maxQueueDelayMs must be positive (Infinity disables it), got ${queueDelay}`,
    );
  }
  const stallMin = o.stallMinMs ?? Math.min(2000, o.requestTimeoutMs / 4);
  if (!(stallMin >= 0)) {
    throw new SchedulerError(
      `BlockScheduler: stallMinMs must be >= 0 (Infinity disables it), got ${stallMin}`,
    );
  }
  if (o.tieSeed !== undefined && !Number.isInteger(o.tieSeed)) {
    throw new SchedulerError(`BlockScheduler: tieSeed must be an integer, got ${o.tieSeed}`);
  }
  return {
    blockCount: o.blockCount,
    now: o.now,
    requestTimeoutMs: o.requestTimeoutMs,
    initialWindow,
    maxWindow,
    endgameDuplicates: dup,
    rarestFirst: o.rarestFirst ?? true,
    rarityCap,
    maxQueueDelayMs: queueDelay,
    stallMinMs: stallMin,
    preferInOrder: o.preferInOrder ?? true,
    tieSeed: o.tieSeed,
  };
}

/** A peer id for `addPeer`. */
export function checkPeerId(peer: string): void {
  if (typeof peer !== "string" || peer === "") {
    throw new SchedulerError(`addPeer(): peer must be a non-empty string, got ${String(peer)}`);
  }
}

/** A block index in `[0, blockCount)`. */
export function checkIndex(call: string, index: number, blockCount: number, peer?: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= blockCount) {
    const from = peer === undefined ? "" : ` from peer ${JSON.stringify(peer)}`;
    throw new SchedulerError(
      `${call}(): block index ${index}${from} out of range [0, ${blockCount})`,
    );
  }
}

/** A peer's availability: "all", or a bit set of `blockCount` bits. */
export function checkHave(
  call: string,
  peer: string,
  have: BlockAvailability | "all",
  blockCount: number,
): void {
  if (have === "all") return;
  if (typeof have !== "object" || have === null || typeof have.get !== "function") {
    throw new SchedulerError(
      `${call}(): availability of peer ${JSON.stringify(peer)} must be "all" or have get(i), got ${
        String(have)
      }`,
    );
  }
  if (typeof have.size === "number" && have.size !== blockCount) {
    throw new SchedulerError(
      `${call}(): availability of peer ${
        JSON.stringify(peer)
      } has ${have.size} bits, expected ${blockCount} (the block count)`,
    );
  }
}

const REASONS: ReadonlySet<string> = new Set(["timeout", "not-available", "busy", "error"]);

/** A failure reason of `failed()`. */
export function checkReason(reason: FailureReason): void {
  if (!REASONS.has(reason)) {
    throw new SchedulerError(
      `failed(): reason must be one of ${[...REASONS].join(", ")}, got ${JSON.stringify(reason)}`,
    );
  }
}

/** A byte count. */
export function checkBytes(call: string, bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new SchedulerError(`${call}(): bytes must be a non-negative integer, got ${bytes}`);
  }
}

function checkInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SchedulerError(
      `BlockScheduler: ${name} must be an integer in [${min}, ${max}], got ${value}`,
    );
  }
}
