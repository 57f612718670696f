/**
 * Bounds on what the DHT lets remote peers store here: a quota-checked,
 * indexed provider-record store behind libp2p's datastore, and the rule for
 * which keys this node is responsible for.
 *
 * @example
 * ```ts
 * import { GuardedDatastore, ProviderStore } from "./mod.ts";
 * ```
 * @module
 */
export { GuardedDatastore, PROVIDER_PREFIX, ProviderRecordRefusedError } from "./datastore.ts";
export {
  type AddResult,
  ProviderStore,
  type ProviderStoreOptions,
  type ProviderStoreStats,
  type RefusalReason,
} from "./provider_store.ts";
export { compareDistance, kadIdOfPeer, responsibleFor } from "./responsible.ts";
export { Slots } from "./slots.ts";
