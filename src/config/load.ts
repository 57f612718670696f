/**
 * Turns a TOML text, command-line overrides and the environment into a
 * validated {@linkcode Config}. Pure: the caller reads the file.
 *
 * Precedence: command-line override > file value > documented default.
 * Anything wrong — TOML syntax, unknown key, wrong type, bad URL or
 * multiaddr — is a {@linkcode ConfigError} naming the file and line (or the
 * flag) and the key; there is no silent fallback to defaults.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "./load.ts";
 * const config = resolveConfig({
 *   env: { get: () => undefined },
 *   file: { path: "config.toml", text: 'policy = "http-first"\n' },
 * });
 * config.policy; // "http-first"
 * ```
 * @module
 */
import { parse as parseToml } from "@std/toml";
import { ConfigError, type ConfigOrigin } from "./errors.ts";
import { translateLegacy } from "./legacy.ts";
import { type Config, CONFIG_KEYS, type Env, keySpec } from "./schema.ts";

/** A value given on the command line for a key. */
export interface ConfigOverride {
  /** TOML key. */
  key: string;
  /** The value, already typed (string values of list keys may be split by the caller). */
  value: unknown;
  /** The flag as typed, for error messages, e.g. `--policy`. */
  flag: string;
}

/** Inputs of {@linkcode resolveConfig}. */
export interface ResolveOptions {
  /** Environment for defaults. */
  env: Env;
  /** The config file, if one was found. */
  file?: { path: string; text: string };
  /** Command-line values (they win over the file). */
  overrides?: readonly ConfigOverride[];
  /**
   * Called for each original guix-p2p key read from the file (translated or
   * dropped), with a message naming the new key: `FILE:LINE: …`.
   */
  onWarning?: (message: string) => void;
}

/** Validates and merges configuration sources. @throws {ConfigError} */
export function resolveConfig(options: ResolveOptions): Config {
  const legacyOf = new Map<string, string>();
  const fileValues = options.file
    ? parseFile(options.file.path, options.file.text, legacyOf, options.onWarning)
    : {};
  const overrides = new Map<string, ConfigOverride>();
  for (const o of options.overrides ?? []) {
    if (!keySpec(o.key)) {
      throw new ConfigError(`unknown key${suggest(o.key)}`, {
        key: o.key,
        origin: { kind: "flag", flag: o.flag },
      });
    }
    overrides.set(o.key, o);
  }
  const config: Partial<Config> = {};
  const out = config as Record<string, unknown>;
  for (const spec of CONFIG_KEYS) {
    const override = overrides.get(spec.key);
    let raw: unknown;
    let origin: ConfigOrigin | undefined;
    if (override) {
      raw = override.value;
      origin = { kind: "flag", flag: override.flag };
    } else if (Object.hasOwn(fileValues, spec.key) && options.file) {
      raw = fileValues[spec.key];
      const legacy = legacyOf.get(spec.key);
      origin = {
        kind: "file",
        file: options.file.path,
        line: findKeyLine(options.file.text, spec.key) ??
          (legacy ? findKeyLine(options.file.text, legacy) : undefined),
      };
    }
    if (origin === undefined) {
      out[spec.key] = spec.default(options.env, config);
      continue;
    }
    try {
      out[spec.key] = spec.parse(raw);
    } catch (e) {
      const legacy = legacyOf.get(spec.key);
      const from = legacy && origin.kind === "file" ? ` (from "${legacy}")` : "";
      throw new ConfigError(`${(e as Error).message}${from}`, { key: spec.key, origin });
    }
  }
  const full = config as Config;
  checkCrossKey(full, options, overrides);
  return full;
}

function parseFile(
  path: string,
  text: string,
  legacyOf: Map<string, string>,
  onWarning: ((message: string) => void) | undefined,
): Record<string, unknown> {
  let values: Record<string, unknown>;
  try {
    values = parseToml(text) as Record<string, unknown>;
  } catch (e) {
    const err = e as Error & { line?: number };
    const detail = err.message.split("\n")[0] ?? "invalid TOML";
    throw new ConfigError(`TOML syntax error: ${detail}`, {
      origin: { kind: "file", file: path, ...(err.line ? { line: err.line } : {}) },
    });
  }
  // The original guix-p2p's keys (and its comma-separated lists) become ours.
  const legacy = translateLegacy(values);
  for (const e of legacy.errors) {
    const line = findKeyLine(text, e.key);
    throw new ConfigError(e.message, {
      key: e.key,
      origin: { kind: "file", file: path, ...(line ? { line } : {}) },
    });
  }
  for (const w of legacy.warnings) {
    for (const k of w.newKeys) if (k !== w.key) legacyOf.set(k, w.key);
    const line = findKeyLine(text, w.key);
    onWarning?.(
      `${path}${
        line ? `:${line}` : ""
      }: ${w.message}; \`guix-p2p config migrate ${path}\` writes the file in the new keys`,
    );
  }
  values = legacy.values;
  for (const key of Object.keys(values)) {
    if (!keySpec(key)) {
      const line = findKeyLine(text, key);
      const isTable = values[key] !== null && typeof values[key] === "object" &&
        !Array.isArray(values[key]);
      throw new ConfigError(
        isTable
          ? `unknown table (all keys are top-level)${suggest(key)}`
          : `unknown key${suggest(key)}`,
        { key, origin: { kind: "file", file: path, ...(line ? { line } : {}) } },
      );
    }
  }
  return values;
}

function checkCrossKey(
  config: Config,
  options: ResolveOptions,
  overrides: Map<string, ConfigOverride>,
): void {
  const originOf = (key: string): ConfigOrigin | undefined => {
    const o = overrides.get(key);
    if (o) return { kind: "flag", flag: o.flag };
    if (options.file) {
      const line = findKeyLine(options.file.text, key);
      return { kind: "file", file: options.file.path, ...(line ? { line } : {}) };
    }
    return undefined;
  };
  if (config.gateway_listen !== "" && !isLoopbackHostPort(config.gateway_listen)) {
    const origin = originOf("gateway_listen");
    throw new ConfigError(
      `the gateway must listen on a loopback address (127.0.0.0/8, [::1] or localhost), got "${config.gateway_listen}"`,
      { key: "gateway_listen", ...(origin ? { origin } : {}) },
    );
  }
}

/** True for `127.x.y.z:port`, `[::1]:port` and `localhost:port`. */
export function isLoopbackHostPort(hostPort: string): boolean {
  return /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost):\d+$/.test(hostPort);
}

/** The 1-based line where `key` is assigned at top level or opens a table, if found. */
export function findKeyLine(text: string, key: string): number | undefined {
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const assign = new RegExp(`^\\s*(?:${escaped}|"${escaped}"|'${escaped}')\\s*[=.]`);
  const table = new RegExp(`^\\s*\\[\\[?\\s*(?:${escaped}|"${escaped}")\\s*[\\].]`);
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (assign.test(line) || table.test(line)) return i + 1;
  }
  return undefined;
}

function suggest(key: string): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const spec of CONFIG_KEYS) {
    const d = editDistance(key, spec.key);
    if (d < bestDistance) [best, bestDistance] = [spec.key, d];
  }
  return best && bestDistance <= Math.max(2, key.length / 3) ? ` (did you mean "${best}"?)` : "";
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
