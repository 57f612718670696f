/**
 * The production sweep provider (src/p2p/serve/sweep_provider.ts) on a node
 * of the simulation: its lookups are kad-dht's real `getClosestPeers` on
 * that node, its ADD_PROVIDER batches go over the simulated network to the
 * receivers' real RPC handler and provider-record store, our own records go
 * to the node's store; time is the simulated clock.
 *
 * @example
 * ```ts
 * const sweep = new SweepProvider({ dht: simSweepDht(world, 7), clock: simClock(clock), intervalMs });
 * ```
 * @module
 */
import { base32 } from "multiformats/bases/base32";
import type { Clock } from "../../src/p2p/rate/clock.ts";
import { closestLookup } from "../../src/p2p/serve/closest_lookup.ts";
import { type Candidate, kadIdOf } from "../../src/p2p/serve/regions.ts";
import type { SweepDht } from "../../src/p2p/serve/sweep_provider.ts";
import type { VirtualClock } from "./_clock.ts";
import type { RealDht } from "./_real_dht.ts";

/** The sweep provider's DHT port on node `i`. */
export function simSweepDht(world: RealDht, i: number): SweepDht {
  const node = world.nodes[i]!;
  const self = node.peer.peerId.toString();
  const candidate = (id: { toString(): string }): Candidate | undefined => {
    const p = world.peerOfText(id.toString());
    return p ? { peer: p.peerId.toString(), kadId: p.kadId } : undefined;
  };
  return {
    lookup(key, { signal }) {
      return closestLookup(node.dht.getClosestPeers(key, { signal }), {
        target: kadIdOf(key),
        self,
        candidate,
      });
    },
    tableSize: () => node.dht.routingTable.size,
    async send(peer, keys, { signal }) {
      const to = world.peerOfText(peer);
      if (!to) throw new Error(`unknown peer ${peer}`);
      await world.addProviders(i, to.index, keys, signal);
    },
    keepSelf(key, keep) {
      const text = base32.baseEncode(key);
      if (keep) node.store.add(text, self, Date.now());
      else node.store.delete(text, self);
    },
  };
}

/** The simulated clock as the rate limiters' `Clock`. */
export function simClock(clock: VirtualClock): Clock {
  return {
    now: () => clock.now,
    setTimer: (fn, ms) => {
      const id = clock.set(fn, ms);
      return () => clock.clear(id);
    },
  };
}
