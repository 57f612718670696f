/**
 * Configuration: schema, validation and loading.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./mod.ts";
 * const { config } = await loadConfig({ configPath: "/etc/guix-p2p/config.toml" });
 * ```
 * @module
 */
export * from "./errors.ts";
export * from "./schema.ts";
export * from "./load.ts";
export * from "./flags.ts";
export * from "./render.ts";
export * from "./deno_config.ts";
export * from "./legacy.ts";
export { checkMultiaddr, useMultiaddrLibrary } from "./multiaddr_check.ts";
