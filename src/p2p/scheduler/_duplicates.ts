/**
 * The scheduler's duplicate requests and streaming placement, as functions
 * over a small view of its state: the stall-guard rescue, the head-of-line
 * rescue, the endgame, and the look-ahead of slow peers. A duplicate is
 * worth sending when it is expected to arrive before the holder starts
 * sending (CANCEL then saves the bytes), or, racing a block already on its
 * way, much sooner.
 *
 * @example
 * ```ts
 * import { worthDuplicating } from "./_duplicates.ts";
 * worthDuplicating(1050, { eta: 3000, minRtt: 400 }, 1000); // true: costless
 * ```
 * @module
 */
import type { Copy, PeerState } from "./_peer.ts";

/** Endgame: a duplicate racing a block already on its way must deliver in 1/4 of the holder's time. */
const RACE_FACTOR = 4;
/** Endgame: a duplicate is free when it arrives this many holder round trips before the holder's copy. */
const FREE_MARGIN_RTTS = 2;
/** Endgame: duplicates outstanding at one peer at a time. */
const MAX_ENDGAME_PER_PEER = 4;
/** Head-of-line rescue: the missing blocks just past the prefix that may be duplicated... */
const HEAD_BLOCKS = 8;
/** ...found within this many indexes past the prefix. */
const HEAD_SCAN = 256;
/** Head-of-line rescue: a racing duplicate only for a holder expected at least this late (ms). */
const HEAD_RACE_MIN_MS = 1000;

/** What the duplicate policies read from the scheduler, and how they dispatch. */
export interface DupContext {
  readonly blockCount: number;
  /** Extra copies allowed per block. */
  readonly dup: number;
  readonly timeoutMs: number;
  readonly stallMinMs: number;
  readonly present: Uint8Array;
  /** In-flight copies per block, in order of each block's first outstanding request. */
  readonly inflight: ReadonlyMap<number, readonly Copy[]>;
  peers(): Iterable<PeerState>;
  prefix(): number;
  wanted(i: number): boolean;
  /** Stall detection (flags the peer the first time). */
  stalled(p: PeerState, now: number): boolean;
  /** Marks block `i` in flight at `p`. */
  dispatch(p: PeerState, i: number): void;
}

/**
 * Endgame: duplicates of the oldest outstanding requests that `p` should
 * deliver sooner than their holders, at most `MAX_ENDGAME_PER_PEER` at a
 * time. A duplicate arriving before the holder starts sending
 * (`eta(p) < eta(holder) - minRtt(holder)`, with a margin for estimation
 * error) costs nothing once CANCEL goes out; one that races a block already
 * on its way is allowed only if `p` delivers in a quarter of the holder's
 * remaining time. A holder not yet measured is expected by the stall guard's
 * horizon.
 */
export function endgame(
  ctx: DupContext,
  p: PeerState,
  now: number,
  free: number,
  out: number[],
): void {
  // The earliest expected copy of each outstanding block.
  const best = new Map<number, { eta: number; minRtt: number }>();
  for (const q of ctx.peers()) {
    let rank = 0;
    for (const c of q.inflight.values()) {
      const eta = copyEta(ctx, q, rank++, c, now);
      const prev = best.get(c.index);
      if (prev === undefined || eta < prev.eta) best.set(c.index, { eta, minRtt: q.minRttMs });
    }
  }
  let extra = 0;
  for (const i of p.inflight.keys()) if (ctx.inflight.get(i)!.length > 1) extra++;
  for (const [i, copies] of ctx.inflight) {
    if (extra >= MAX_ENDGAME_PER_PEER) break;
    if (copies.length > ctx.dup || p.inflight.has(i) || !p.serves(i)) continue;
    const mine = p.eta(p.inflight.size, now, now);
    if (!Number.isNaN(mine) && !worthDuplicating(mine, best.get(i)!, now)) continue;
    extra++;
    ctx.dispatch(p, i);
    out.push(i);
    if (out.length >= free) break;
  }
}

/**
 * Lowest block index worth giving `p` for the stream: the prefix plus the
 * blocks all peers deliver (sum of 1 / gap) during the extra time `p` needs
 * to deliver a new request compared with the quickest other peer that is
 * working and can serve the first wanted block. The prefix itself when
 * there is no such peer or the peers are not measured yet.
 */
export function lookAhead(ctx: DupContext, p: PeerState, now: number): number {
  if (Number.isNaN(p.minRttMs)) return ctx.prefix();
  let head = -1;
  const end = Math.min(ctx.blockCount, ctx.prefix() + HEAD_SCAN);
  for (let i = ctx.prefix(); i < end; i++) {
    if (ctx.wanted(i)) {
      head = i;
      break;
    }
  }
  const mine = p.eta(p.inflight.size, now, now);
  let quickest = Infinity;
  let rate = 0; // blocks per ms
  for (const q of ctx.peers()) {
    if (!(q.gapMs > 0) || q.inflight.size === 0) continue;
    rate += 1 / q.gapMs;
    if (q === p || q.stallFlag || (head >= 0 && !q.serves(head))) continue;
    const eta = q.eta(q.inflight.size, now, now);
    if (eta < quickest) quickest = eta;
  }
  if (!(mine > quickest)) return ctx.prefix();
  return ctx.prefix() + Math.floor(rate * (mine - quickest));
}

/** Expected arrival of copy `c`, at FIFO position `rank` of peer `q`. */
function copyEta(ctx: DupContext, q: PeerState, rank: number, c: Copy, now: number): number {
  const e = q.eta(rank, c.sentAt, now);
  if (!Number.isNaN(e)) return e;
  // Unmeasured holder: expected by the stall guard's horizon (then as late again).
  const late = c.sentAt + ctx.timeoutMs / 4;
  return late >= now ? late : 2 * now - late;
}

/**
 * Head-of-line rescue: the first `HEAD_BLOCKS` missing blocks past the
 * streamed prefix, in flight at peers expected much later than `p` (same
 * rule as the endgame; a racing duplicate only when the holder is expected
 * `HEAD_RACE_MIN_MS` or more away), are duplicated to `p`. Never to or
 * from a peer not measured yet.
 */
export function rescueHead(
  ctx: DupContext,
  p: PeerState,
  now: number,
  free: number,
  out: number[],
): number {
  let count = 0;
  if (out.length >= free) return count;
  const end = Math.min(ctx.blockCount, ctx.prefix() + HEAD_SCAN);
  let seen = 0;
  for (let i = ctx.prefix(); i < end && seen < HEAD_BLOCKS; i++) {
    if (ctx.present[i]) continue;
    seen++;
    const copies = ctx.inflight.get(i);
    if (!copies || copies.length > ctx.dup || p.inflight.has(i) || !p.serves(i)) continue;
    const mine = p.eta(p.inflight.size, now, now);
    if (Number.isNaN(mine)) return count;
    let best = { eta: Infinity, minRtt: NaN };
    for (const c of copies) {
      let rank = 0;
      for (const other of c.peer.inflight.values()) {
        if (other === c) break;
        rank++;
      }
      // Unmeasured holders are left to the stall guard.
      const eta = c.peer.eta(rank, c.sentAt, now);
      if (!(eta >= best.eta)) best = { eta, minRtt: c.peer.minRttMs };
    }
    if (Number.isNaN(best.eta) || !worthDuplicating(mine, best, now)) continue;
    const costless = mine < best.eta - FREE_MARGIN_RTTS * best.minRtt;
    if (!costless && best.eta - now < HEAD_RACE_MIN_MS) continue;
    ctx.dispatch(p, i);
    count++;
    out.push(i);
    if (out.length >= free) return count;
  }
  return count;
}

/** Stall guard: gives `p` duplicates of blocks held only by stalled peers, lowest index first. */
export function rescueStalled(
  ctx: DupContext,
  p: PeerState,
  now: number,
  free: number,
  out: number[],
): number {
  let count = 0;
  if (!Number.isFinite(ctx.stallMinMs)) return count;
  let candidates: number[] | undefined;
  for (const q of ctx.peers()) {
    if (q === p || !ctx.stalled(q, now)) continue;
    for (const i of q.inflight.keys()) {
      const copies = ctx.inflight.get(i)!;
      if (copies.length > ctx.dup || p.inflight.has(i) || !p.serves(i)) continue;
      if (copies.some((c) => !ctx.stalled(c.peer, now))) continue;
      (candidates ??= []).push(i);
    }
  }
  if (!candidates) return count;
  candidates.sort((a, b) => a - b);
  for (const i of candidates) {
    if (out.length >= free) break;
    if (p.inflight.has(i)) continue; // listed twice (held by two stalled peers)
    ctx.dispatch(p, i);
    count++;
    out.push(i);
  }
  return count;
}

/**
 * Whether a duplicate expected at `mine` beats the earliest copy `best`:
 * costless (it arrives before that holder starts sending, so CANCEL saves
 * the bytes) or racing but `RACE_FACTOR` times sooner.
 */
export function worthDuplicating(
  mine: number,
  best: { eta: number; minRtt: number },
  now: number,
): boolean {
  const costless = mine < best.eta - FREE_MARGIN_RTTS * (best.minRtt || 0);
  return costless || mine - now < (best.eta - now) / RACE_FACTOR;
}
