/**
 * Finds and reads the configuration file (the Deno side of config loading).
 *
 * Search order: `--config FILE` (must exist), `$GUIX_P2P_CONFIG` (must exist),
 * `$XDG_CONFIG_HOME/guix-p2p/config.toml`, `~/.config/guix-p2p/config.toml`
 * (optional: absent means defaults).
 *
 * @example
 * ```ts
 * import { loadConfig } from "./deno_config.ts";
 * const { config, file } = await loadConfig({ overrides: [] });
 * console.log(file ?? "defaults", config.store_dir);
 * ```
 * @module
 */
import { ConfigError } from "./errors.ts";
import { type ConfigOverride, resolveConfig } from "./load.ts";
import type { Config, Env } from "./schema.ts";

/** What {@linkcode loadConfig} found. */
export interface LoadedConfig {
  /** The effective configuration. */
  config: Config;
  /** The file read, or undefined when none exists (all defaults). */
  file: string | undefined;
  /** Original guix-p2p keys read from the file, each naming the new key (`FILE:LINE: …`). */
  warnings: string[];
}

/** The per-user config file path (where `config init` writes by default). */
export function defaultConfigPath(env: Env = Deno.env): string {
  const xdg = env.get("XDG_CONFIG_HOME");
  const base = xdg || `${env.get("HOME") || "/root"}/.config`;
  return `${base}/guix-p2p/config.toml`;
}

/** Loads and validates the configuration. @throws {ConfigError} */
export async function loadConfig(options: {
  configPath?: string | undefined;
  overrides?: readonly ConfigOverride[];
  env?: Env;
}): Promise<LoadedConfig> {
  const env = options.env ?? Deno.env;
  const explicit = options.configPath ?? env.get("GUIX_P2P_CONFIG");
  const path = explicit ?? defaultConfigPath(env);
  let text: string | undefined;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound) || explicit !== undefined) {
      throw new ConfigError(`cannot read config file: ${(e as Error).message}`, {
        origin: { kind: "file", file: path },
      });
    }
  }
  const warnings: string[] = [];
  const config: Config = resolveConfig({
    env,
    ...(text !== undefined ? { file: { path, text } } : {}),
    overrides: options.overrides ?? [],
    onWarning: (w) => warnings.push(w),
  });
  return { config, file: text !== undefined ? path : undefined, warnings };
}
