/**
 * The original guix-p2p's configuration keys (the Rust implementation,
 * `../shared/docs/reference-guix-p2p.md` §5), read as ours. Each key is
 * translated into the new key(s) with a warning naming them; keys without an
 * equivalent are dropped with a warning saying why. Its list-valued keys are
 * comma-separated strings (`bootstrap_peers = "/ip4/…,/dns4/…"`); a string
 * is also accepted, with a warning, where we expect an array.
 *
 * Pure: {@linkcode translateLegacy} takes the parsed TOML table and returns
 * the table in our keys, the warnings and the dropped keys; `load.ts` uses it
 * for every file and `guix-p2p config migrate` writes its result.
 *
 * @example
 * ```ts
 * import { translateLegacy } from "./legacy.ts";
 * const r = translateLegacy({ listen_addr: "/ip4/0.0.0.0/tcp/6881", max_total_peers: 50 });
 * r.values; // { listen: ["/ip4/0.0.0.0/tcp/6881"], max_connections: 50 }
 * r.warnings.map((w) => w.key); // ["listen_addr", "max_total_peers"]
 * ```
 * @module
 */

/** A translated (or dropped) original key. */
export interface LegacyNote {
  /** The key as written in the file. */
  key: string;
  /** The new keys it became (empty when dropped). */
  newKeys: string[];
  /** What happened, for people: names the new key and value, or why it was dropped. */
  message: string;
}

/** The result of {@linkcode translateLegacy}. */
export interface LegacyTranslation {
  /** The table with original keys replaced by ours (other keys untouched). */
  values: Record<string, unknown>;
  /** One note per original key (translated or dropped), in file order. */
  warnings: LegacyNote[];
  /** Original keys that have no equivalent, with their values (for `config migrate`). */
  dropped: Record<string, unknown>;
  /** Problems: an original key and its new key both set, or a value of the wrong type. */
  errors: { key: string; message: string }[];
}

type Translate = (
  value: unknown,
  all: Record<string, unknown>,
) => { set: Record<string, unknown>; note?: string } | { drop: string } | { error: string };

/** Splits the original's comma-separated lists (an array is taken as is). */
export function splitList(value: unknown): unknown {
  if (typeof value !== "string") return value;
  return value.split(/[\s,]+/).filter((s) => s !== "");
}

const QUIC = /^(\/(?:ip4|ip6|dns|dns4|dns6)\/[^/]+)\/udp\/(\d+)\/quic(?:-v1)?(\/p2p\/[^/]+)?$/;

/** `/ip4/H/udp/N/quic-v1` → `/ip4/H/tcp/N` (we listen on TCP only). */
function quicToTcp(addr: string): string | undefined {
  const m = QUIC.exec(addr);
  return m ? `${m[1]}/tcp/${m[2]}${m[3] ?? ""}` : undefined;
}

function seconds(key: string): (v: unknown) => number | { error: string } {
  return (v) =>
    typeof v === "number" && Number.isFinite(v) && v >= 0
      ? v
      : { error: `${key}: expected a number of seconds, got ${JSON.stringify(v)}` };
}

function kibPerSecond(newKey: string): Translate {
  return (v) => {
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      return { error: `expected a rate in KiB/s, got ${JSON.stringify(v)}` };
    }
    return { set: { [newKey]: Math.round(v * 1024) }, note: `${v} KiB/s = ${v * 1024} bytes/s` };
  };
}

function same(newKey: string): Translate {
  return (v) => ({ set: { [newKey]: v } });
}

function addresses(
  newKey: string,
  what: string,
): Translate {
  return (v) => {
    const list = splitList(v);
    if (!Array.isArray(list)) return { error: `expected a comma-separated string or an array` };
    const kept: string[] = [];
    const quic: string[] = [];
    for (const a of list) {
      if (typeof a !== "string") return { error: `expected strings, got ${JSON.stringify(a)}` };
      if (QUIC.test(a)) quic.push(a);
      else kept.push(a);
    }
    return {
      set: { [newKey]: kept },
      ...(quic.length > 0
        ? {
          note:
            `${what} over QUIC dropped (this guix-p2p speaks TCP only; ask for a /tcp/ address): ${
              quic.join(", ")
            }`,
        }
        : {}),
    };
  };
}

function dashboardPart(all: Record<string, unknown>): string {
  return all.dashboard_enabled === true
    ? "folded into dashboard_listen (see dashboard_enabled)"
    : "it applied only with dashboard_enabled = true; ours is dashboard_listen";
}

/** Original key → translation. */
const LEGACY: Record<string, Translate> = {
  listen_addr: (v) => {
    if (typeof v !== "string") return { error: `expected one multiaddr, got ${JSON.stringify(v)}` };
    const tcp = quicToTcp(v);
    return tcp
      ? {
        set: { listen: [tcp] },
        note: "QUIC is not supported: TCP on the same port (open that TCP port in the firewall)",
      }
      : { set: { listen: [v] } };
  },
  external_addresses: addresses("announce", "external addresses"),
  substitute_policy: same("policy"),
  max_total_peers: same("max_connections"),
  reputation_ban_threshold: same("ban_threshold"),
  max_upload_rate_kbps: kibPerSecond("max_upload_rate"),
  max_download_rate_kbps: kibPerSecond("max_download_rate"),
  peer_store_max_entries: same("known_peers_max"),
  peer_store_enabled: (v, all) =>
    v === false
      ? { set: { known_peers_max: 0 }, note: "no peer store" }
      : v === true
      ? all.peer_store_max_entries === undefined
        ? { drop: "the peer store is on by default (known_peers_max)" }
        : { drop: "see peer_store_max_entries" }
      : { error: `expected true or false, got ${JSON.stringify(v)}` },
  auto_seed_downloads: (v) => {
    const mode = v === true ? "all" : v === false ? "off" : v;
    if (mode !== "off" && mode !== "p2p" && mode !== "all") {
      return { error: `expected "off", "p2p", "all", true or false, got ${JSON.stringify(v)}` };
    }
    return mode === "p2p"
      ? {
        set: { auto_seed: mode },
        note: 'the original\'s default; ours is "all", which also shares what came over HTTP',
      }
      : { set: { auto_seed: mode } };
  },
  request_timeout_secs: (v) => {
    const s = seconds("request_timeout_secs")(v);
    return typeof s === "number"
      ? { set: { http_connect_timeout: s }, note: "the HTTP part of it; peers have their own" }
      : s;
  },
  stall_timeout_secs: (v) => {
    const s = seconds("stall_timeout_secs")(v);
    return typeof s === "number" ? { set: { http_stall_timeout: s, block_request_timeout: s } } : s;
  },
  dashboard_enabled: (v, all) => {
    if (v === false) return { set: { dashboard_listen: "" } };
    if (v !== true) return { error: `expected true or false, got ${JSON.stringify(v)}` };
    const bind = typeof all.dashboard_bind === "string" ? all.dashboard_bind : "127.0.0.1";
    const port = typeof all.dashboard_port === "number" ? all.dashboard_port : 3030;
    return { set: { dashboard_listen: `${bind.includes(":") ? `[${bind}]` : bind}:${port}` } };
  },
  dashboard_port: (_v, all) => ({ drop: dashboardPart(all) }),
  dashboard_bind: (_v, all) => ({ drop: dashboardPart(all) }),
  enable_default_bootstrap_peers: () => ({
    drop: "there is no built-in bootstrap list: bootstrap_peers is the whole list",
  }),
  max_in_flight_blocks_per_peer: () => ({
    drop: "requests per peer adapt to its speed (the scheduler's window)",
  }),
  connection_retries: () => ({ drop: "remembered peers are re-dialled every minute" }),
  health_check_interval_secs: () => ({
    drop: "provider records are refreshed per reprovide_interval",
  }),
  tor_socks: () => ({ drop: "not supported (no SOCKS proxy for HTTP)" }),
  tor_only: () => ({ drop: "not supported (no SOCKS proxy for HTTP)" }),
  local_narinfo_path: () => ({ drop: "not supported: narinfos come from substitute_urls" }),
};

/** Keys of ours that the original wrote as comma-separated strings. */
const COMMA_LISTS: Record<string, Translate> = {
  bootstrap_peers: addresses("bootstrap_peers", "bootstrap peers"),
  substitute_urls: (v) => ({ set: { substitute_urls: splitList(v) } }),
};

/** True when `key` is one of the original guix-p2p's keys that we translate or drop. */
export function isLegacyKey(key: string): boolean {
  return Object.hasOwn(LEGACY, key);
}

function show(v: unknown): string {
  return JSON.stringify(v);
}

/** Translates the original's keys in `table` (see the module doc). */
export function translateLegacy(table: Record<string, unknown>): LegacyTranslation {
  const values: Record<string, unknown> = {};
  const warnings: LegacyNote[] = [];
  const dropped: Record<string, unknown> = {};
  const errors: LegacyTranslation["errors"] = [];
  const setBy = new Map<string, string>();
  for (const [key, value] of Object.entries(table)) {
    if (!isLegacyKey(key) && !Object.hasOwn(values, key)) values[key] = value;
  }
  for (const [key, value] of Object.entries(table)) {
    const legacy = LEGACY[key];
    const comma = COMMA_LISTS[key];
    const translate = legacy ?? (comma && typeof value === "string" ? comma : undefined);
    if (!translate) continue;
    const r = translate(value, table);
    if ("error" in r) {
      errors.push({ key, message: r.error });
      continue;
    }
    if ("drop" in r) {
      dropped[key] = value;
      warnings.push({
        key,
        newKeys: [],
        message: `"${key}" is the original guix-p2p's; dropped: ${r.drop}`,
      });
      continue;
    }
    for (const [newKey, newValue] of Object.entries(r.set)) {
      if (legacy && Object.hasOwn(table, newKey)) {
        errors.push({
          key,
          message:
            `both "${key}" (the original guix-p2p's) and "${newKey}" are set; keep "${newKey}"`,
        });
        continue;
      }
      const earlier = setBy.get(newKey);
      if (earlier && earlier !== key) {
        errors.push({ key, message: `"${key}" and "${earlier}" both set "${newKey}"` });
        continue;
      }
      setBy.set(newKey, key);
      values[newKey] = newValue;
    }
    const became = Object.entries(r.set).map(([k, v]) => `${k} = ${show(v)}`).join(", ");
    warnings.push({
      key,
      newKeys: Object.keys(r.set),
      message: legacy
        ? `"${key}" is the original guix-p2p's; read as ${became}${r.note ? ` (${r.note})` : ""}`
        : `"${key}" as a comma-separated string is the original guix-p2p's form; read as ${became}${
          r.note ? ` (${r.note})` : ""
        }`,
    });
  }
  return { values, warnings, dropped, errors };
}
