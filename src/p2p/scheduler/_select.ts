/**
 * Which blocks a peer gets when it has room in its window: first the
 * duplicate rescues (stalled peers' blocks, then the head of the stream),
 * then wanted blocks in the {@linkcode BlockBook}'s order from the peer's
 * look-ahead point (a peer slower to deliver than the fastest takes blocks
 * the stream reaches later; blocks only it can serve are never skipped),
 * then the ones before it, and in the endgame duplicates of outstanding
 * requests it should deliver sooner than their holders.
 *
 * @example
 * ```ts
 * import { selectBlocks } from "./_select.ts";
 * // const { out, rescues } = selectBlocks(ctx, blocks, peer, now, free);
 * ```
 * @module
 */
import type { BlockBook } from "./_blocks.ts";
import { type DupContext, endgame, lookAhead, rescueHead, rescueStalled } from "./_duplicates.ts";
import type { PeerState } from "./_peer.ts";

/**
 * Picks up to `free` blocks for `p` at `now` and dispatches them through
 * `ctx.dispatch`. Returns them in the order picked, with the number of
 * rescue duplicates among them.
 *
 * @example
 * ```ts
 * import { selectBlocks } from "./_select.ts";
 * import { BlockBook } from "./_blocks.ts";
 * import { PeerState } from "./_peer.ts";
 * const blocks = new BlockBook(4, { rarest: true, rarityCap: 3, inOrder: true });
 * const a = new PeerState("a", "all", 2, 64);
 * blocks.peerAdded(a);
 * const ctx = {
 *   blockCount: 4, dup: 0, timeoutMs: 1000, stallMinMs: 500,
 *   present: blocks.present, inflight: blocks.inflight,
 *   peers: () => [a], prefix: () => blocks.prefix, wanted: (i: number) => blocks.wanted(i),
 *   stalled: () => false, dispatch: (_p: PeerState, i: number) => void blocks.copiesFor(i),
 * };
 * selectBlocks(ctx, blocks, a, 0, 2).out; // [0, 1]
 * ```
 */
export function selectBlocks(
  ctx: DupContext,
  blocks: BlockBook,
  p: PeerState,
  now: number,
  free: number,
): { out: number[]; rescues: number } {
  const out: number[] = [];
  let rescues = 0;
  if (ctx.dup > 0) {
    rescues += rescueStalled(ctx, p, now, free, out);
    rescues += rescueHead(ctx, p, now, free, out);
  }
  if (blocks.wantedAvail > 0 && out.length < free) {
    const order = blocks.order();
    // A peer slower to deliver than the fastest takes blocks the stream reaches later.
    const from = lookAhead(ctx, p, now);
    const take = (i: number) => {
      if (!p.serves(i)) return false;
      ctx.dispatch(p, i);
      out.push(i);
      return out.length >= free;
    };
    // Blocks no other peer can serve are never skipped.
    order.scan((i) => (i >= from || blocks.avail[i]! <= 1) && take(i));
    // Not enough past the look-ahead: the wanted blocks the stream needs last.
    if (from > blocks.prefix && out.length < free && blocks.wantedAvail > 0) {
      order.scanReverse((i) => i < from && take(i));
    }
  }
  if (out.length < free && blocks.wantedAvail === 0 && ctx.dup > 0) {
    endgame(ctx, p, now, free, out);
  }
  return { out, rescues };
}
