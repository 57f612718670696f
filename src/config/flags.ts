/**
 * Command-line flags that set configuration keys, shared by the daemon and the
 * admin CLI. `--set KEY=VALUE` covers every key; the named flags are shortcuts.
 *
 * @example
 * ```ts
 * import { overridesFromFlags } from "./flags.ts";
 * overridesFromFlags({ "store-dir": "/tmp/store", set: ["policy=\"http-only\""] });
 * // [{ key: "store_dir", value: "/tmp/store", flag: "--store-dir" }, { key: "policy", ... }]
 * ```
 * @module
 */
import { parse as parseToml } from "@std/toml";
import { ConfigError } from "./errors.ts";
import type { ConfigOverride } from "./load.ts";

/** Named flags: flag name (without `--`) → key, and whether the value is a list. */
export const CONFIG_FLAGS: readonly { flag: string; key: string; list?: boolean; int?: boolean }[] =
  [
    { flag: "store-dir", key: "store_dir" },
    { flag: "cache-dir", key: "cache_dir" },
    { flag: "socket", key: "socket_path" },
    { flag: "acl", key: "acl_path" },
    { flag: "log-level", key: "log_level" },
    { flag: "policy", key: "policy" },
    { flag: "substitute-urls", key: "substitute_urls", list: true },
    { flag: "listen", key: "listen", list: true },
    { flag: "bootstrap", key: "bootstrap_peers", list: true },
    { flag: "min-providers", key: "min_providers", int: true },
    { flag: "auto-seed", key: "auto_seed" },
    { flag: "gateway-listen", key: "gateway_listen" },
    { flag: "dashboard-listen", key: "dashboard_listen" },
  ];

/** Names of the string flags to declare in a flag spec (plus `config` and the repeatable `set`). */
export const CONFIG_FLAG_NAMES: string[] = CONFIG_FLAGS.map((f) => f.flag);

/** Converts parsed flag values into overrides. @throws {ConfigError} for a malformed `--set`. */
export function overridesFromFlags(
  values: Record<string, string | string[] | boolean | undefined>,
): ConfigOverride[] {
  const out: ConfigOverride[] = [];
  for (const { flag, key, list, int } of CONFIG_FLAGS) {
    const v = values[flag];
    if (typeof v !== "string") continue;
    let value: unknown = v;
    if (list) value = v.split(/[\s,]+/).filter((x) => x !== "");
    else if (int && /^\d+$/.test(v)) value = Number(v);
    out.push({ key, value, flag: `--${flag}` });
  }
  const sets = values.set;
  for (const assignment of Array.isArray(sets) ? sets : []) {
    const eq = assignment.indexOf("=");
    if (eq <= 0) {
      throw new ConfigError(`expected KEY=VALUE, got "${assignment}"`, {
        origin: { kind: "flag", flag: "--set" },
      });
    }
    const key = assignment.slice(0, eq).trim();
    const text = assignment.slice(eq + 1);
    let value: unknown;
    try {
      value = (parseToml(`v = ${text}`) as { v: unknown }).v;
    } catch {
      value = text; // a bare word is taken as a string
    }
    out.push({ key, value, flag: `--set ${key}` });
  }
  return out;
}
