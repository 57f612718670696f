/**
 * Replies to guix-daemon, byte for byte (../shared/docs/guix-substitute-protocol.md §2.2,
 * §2.3, §3.3). Pure formatting: fd 4 writing is in `deno_fd4.ts`.
 *
 * @example
 * ```ts
 * import { haveReply, successLine } from "./replies.ts";
 * haveReply(["/gnu/store/…-hello"]);            // "/gnu/store/…-hello\n\n"
 * successLine("sha256:0p22…gsj2s", 1064);      // "success sha256:0p22…gsj2s 1064\n"
 * ```
 * @module
 */

/** The data of one `info` record. */
export interface InfoRecord {
  /** Full store path (must be one that was requested). */
  path: string;
  /** Full deriver path, or "" when none. */
  deriver: string;
  /** Full reference paths, in narinfo order. */
  references: string[];
  /** FileSize of the URL that would be used, or 0. */
  downloadSize: number;
  /** NarSize. */
  narSize: number;
}

/** The `have` reply: one path per line, then an empty line. */
export function haveReply(paths: readonly string[]): string {
  return paths.map((p) => `${p}\n`).join("") + "\n";
}

/** The `info` reply: one record per path, then an empty line. */
export function infoReply(records: readonly InfoRecord[]): string {
  let out = "";
  for (const r of records) {
    out += `${r.path}\n${r.deriver}\n${r.references.length}\n`;
    for (const ref of r.references) out += `${ref}\n`;
    out += `${r.downloadSize}\n${r.narSize}\n`;
  }
  return out + "\n";
}

/** `success <NarHash as in the narinfo> <NarSize>\n` (exactly 3 tokens). */
export function successLine(narHash: string, narSize: number): string {
  return `success ${narHash} ${narSize}\n`;
}

/** `hash-mismatch sha256 <expected nix32> <actual nix32>\n` (exactly 4 tokens). */
export function hashMismatchLine(expected: string, actual: string): string {
  return `hash-mismatch sha256 ${expected} ${actual}\n`;
}

/**
 * A failure status: first token `failed`, which guix-daemon treats like the
 * built-in substituter's exit (the goal fails) while this process stays usable.
 * Kept to one line of at most 4096 bytes.
 */
export function failureLine(code: string, message: string): string {
  const flat = message.replace(/[\r\n]+/g, " ").trim();
  let line = `failed ${code}${flat ? ` ${flat}` : ""}`;
  const encoder = new TextEncoder();
  while (encoder.encode(line).length > 4000) line = line.slice(0, -100);
  return `${line}\n`;
}
