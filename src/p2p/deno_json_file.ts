/**
 * Small JSON state files written atomically (temporary file + rename), so a
 * crash or SIGKILL never leaves a half-written file.
 *
 * @example
 * ```ts
 * import { readJsonFile, writeJsonFile } from "./deno_json_file.ts";
 * await writeJsonFile("/var/cache/guix-p2p/peers.json", { v: 1, peers: [] });
 * const state = await readJsonFile("/var/cache/guix-p2p/peers.json");
 * ```
 * @module
 */

/** Reads and parses `path`; undefined when absent or unreadable as JSON. */
export async function readJsonFile(path: string): Promise<unknown> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch {
    return undefined;
  }
}

/** Writes `value` as JSON to `path` atomically. */
export async function writeJsonFile(path: string, value: unknown, mode = 0o600): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(value), { mode });
  try {
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
