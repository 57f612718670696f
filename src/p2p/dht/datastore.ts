/**
 * The datastore given to libp2p: provider records (`/dht/provider/<key>/<peer>`,
 * written by kad-dht's ADD_PROVIDER handler and by our own `provide()`) go to
 * a bounded, indexed {@linkcode ProviderStore}; everything else (the peer
 * store) to an in-memory datastore. A refused record makes `put` throw, which
 * makes kad-dht abort the sender's stream; a flooding peer is reported through
 * `onAbuse` (the node disconnects it, the service penalises it).
 *
 * Why here: kad-dht 16.4.5 keeps provider records in libp2p's datastore with no
 * quota, and looks them up with a prefix query that scans every record of the
 * default in-memory datastore (docs/security.md, "DHT provider records").
 *
 * @example
 * ```ts
 * const datastore = new GuardedDatastore({ store: new ProviderStore({ … }), onAbuse: console.warn });
 * await createLibp2p({ datastore, … });
 * ```
 * @module
 */
import { NotFoundError } from "@libp2p/interface";
import { BaseDatastore } from "datastore-core/base";
import { Key, type KeyQuery, type Pair, type Query } from "interface-datastore";
import type { ProviderStore, RefusalReason } from "./provider_store.ts";

/** kad-dht's prefix for provider records (its default `datastorePrefix` + "/provider"). */
export const PROVIDER_PREFIX = "/dht/provider/";

/** A provider record this node refused to store. */
export class ProviderRecordRefusedError extends Error {
  override name = "ProviderRecordRefusedError";
  /** Creates the error. */
  constructor(readonly peer: string, readonly reason: RefusalReason) {
    super(`provider record from ${peer} refused (${reason})`);
  }
}

/** Options of {@linkcode GuardedDatastore}. */
export interface GuardedDatastoreOptions {
  store: ProviderStore;
  /** Called when a peer floods us with provider records. */
  onAbuse?: (peer: string, reason: string) => void;
}

/** libp2p's datastore with provider records held by a {@linkcode ProviderStore}. */
export class GuardedDatastore extends BaseDatastore {
  readonly store: ProviderStore;
  /** Everything but provider records (the peer store), as libp2p's MemoryDatastore keeps it. */
  #inner = new Map<string, Uint8Array>();
  #onAbuse: (peer: string, reason: string) => void;

  /** Creates the datastore. */
  constructor(options: GuardedDatastoreOptions) {
    super();
    this.store = options.store;
    this.#onAbuse = options.onAbuse ?? (() => {});
  }

  /** Sets the abuse callback (the node exists only after the datastore). */
  set onAbuse(fn: (peer: string, reason: string) => void) {
    this.#onAbuse = fn;
  }

  override async put(
    key: Key,
    value: Uint8Array,
    options?: { signal?: AbortSignal },
  ): Promise<Key> {
    const r = providerKey(key);
    if (!r?.peer) {
      this.#inner.set(key.toString(), value);
      return key;
    }
    const admitted = this.store.admit(r.peer);
    if (!admitted.ok) {
      if (admitted.abuse) this.#onAbuse(r.peer, `ADD_PROVIDER flood (${admitted.reason} limit)`);
      throw new ProviderRecordRefusedError(r.peer, admitted.reason);
    }
    // Past its burst a peer is slowed down to the rate (its stream waits here).
    if (admitted.waitMs > 0) await delay(admitted.waitMs, options?.signal);
    const result = this.store.add(r.key, r.peer, decodeVarint(value));
    if (!result.ok) throw new ProviderRecordRefusedError(r.peer, result.reason);
    return key;
  }

  override get(key: Key): Uint8Array {
    const r = providerKey(key);
    if (!r?.peer) {
      const value = this.#inner.get(key.toString());
      if (!value) throw new NotFoundError(`no datastore entry ${key}`);
      return value;
    }
    const time = this.store.get(r.key, r.peer);
    if (time === undefined) throw new NotFoundError(`no provider record ${key}`);
    return encodeVarint(time);
  }

  override has(key: Key): boolean {
    const r = providerKey(key);
    if (!r?.peer) return this.#inner.has(key.toString());
    return this.store.get(r.key, r.peer) !== undefined;
  }

  override delete(key: Key): void {
    const r = providerKey(key);
    if (!r?.peer) {
      this.#inner.delete(key.toString());
      return;
    }
    this.store.delete(r.key, r.peer);
  }

  override *_all(q: Query): Generator<Pair> {
    const prefix = q.prefix ?? "";
    if (prefix.startsWith(PROVIDER_PREFIX)) {
      // One key's providers: served from the index (the lookup path).
      const key = prefix.slice(PROVIDER_PREFIX.length).split("/")[0] ?? "";
      if (key !== "") {
        for (const [peer, time] of this.store.providers(key)) {
          yield { key: new Key(`${PROVIDER_PREFIX}${key}/${peer}`), value: encodeVarint(time) };
        }
        return;
      }
    }
    if (PROVIDER_PREFIX.startsWith(prefix) || prefix.startsWith(PROVIDER_PREFIX)) {
      for (const [key, peer, time] of this.store.all()) {
        yield { key: new Key(`${PROVIDER_PREFIX}${key}/${peer}`), value: encodeVarint(time) };
      }
    }
    if (prefix.startsWith(PROVIDER_PREFIX)) return;
    for (const [key, value] of this.#inner) {
      if (key.startsWith(prefix)) yield { key: new Key(key), value };
    }
  }

  override *_allKeys(q: KeyQuery): Generator<Key> {
    for (const pair of this._all(q.prefix === undefined ? {} : { prefix: q.prefix })) {
      yield pair.key;
    }
  }
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

/** `/dht/provider/<key>/<peer>` → its parts (undefined for other keys). */
function providerKey(key: Key): { key: string; peer: string | undefined } | undefined {
  const s = key.toString();
  if (!s.startsWith(PROVIDER_PREFIX)) return undefined;
  const [k, peer, ...rest] = s.slice(PROVIDER_PREFIX.length).split("/");
  if (!k || rest.length > 0) return undefined;
  return { key: k, peer: peer || undefined };
}

/** Unsigned LEB128 (kad-dht stores record times as a varint of epoch ms). */
export function encodeVarint(n: number): Uint8Array {
  const out: number[] = [];
  let v = Math.max(0, Math.floor(n));
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** Decodes {@linkcode encodeVarint}'s output (0 for malformed input). */
export function decodeVarint(b: Uint8Array): number {
  let n = 0;
  let scale = 1;
  for (let i = 0; i < b.length && i < 8; i++) {
    n += (b[i]! & 0x7f) * scale;
    if ((b[i]! & 0x80) === 0) return n;
    scale *= 0x80;
  }
  return 0;
}
