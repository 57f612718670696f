/**
 * Narinfo serializers for the three layouts seen in the wild:
 *
 * - **publish** (`guix publish` since 2020, bordeaux): the signed block
 *   `StorePath`, `NarHash`, `NarSize`, `References`, [`Deriver`], [`System`],
 *   then `Signature`, then one `URL`/`Compression`/[`FileSize`] group per entry;
 * - **old** (`guix publish` before 2020): `StorePath`, the URL groups,
 *   `NarHash`, `NarSize`, `References`, [`System`, `Deriver`], then `Signature`,
 *   so the URLs are signed too;
 * - **nix** (`nix copy` order): `StorePath`, `URL`, `Compression`, `FileHash`,
 *   `FileSize`, `NarHash`, `NarSize`, `References`, [`Deriver`], [`System`],
 *   `Sig`…, [`CA`].
 *
 * An empty `References` list is written `References: ` with a trailing space,
 * as both Guix and Nix do.
 *
 * @example
 * ```ts
 * import { formatGuixNarinfo, guixSignedBlock } from "./serialize.ts";
 * const info = {
 *   storePath: "/gnu/store/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test",
 *   narHash: "sha256:0p22aw2w80cljfc2i8bgws84bqcawjp1n16fm8kvc73s172gsj2s",
 *   narSize: 1064,
 *   references: [],
 *   entries: [{ url: "nar/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test", compression: "none" }],
 * };
 * guixSignedBlock(info).endsWith("References: \n"); // true
 * formatGuixNarinfo(info); // block, then the URL group (no Signature line: unsigned)
 * ```
 * @module
 */
import { NarinfoError } from "./errors.ts";
import type { NarinfoContent, NarinfoEntry } from "./narinfo.ts";

/** Layouts of {@linkcode formatGuixNarinfo}. */
export type GuixNarinfoLayout = "publish" | "old";

function line(name: string, value: string | number): string {
  const text = String(value);
  if (/[\n\r]/.test(text)) {
    throw new NarinfoError(`value contains a line break: ${JSON.stringify(text)}`, { field: name });
  }
  return `${name}: ${text}\n`;
}

function entryLines(entry: NarinfoEntry, withHash: boolean): string {
  let out = line("URL", entry.url);
  if (entry.compression !== undefined) out += line("Compression", entry.compression);
  if (withHash && entry.fileHash !== undefined) out += line("FileHash", entry.fileHash);
  if (entry.fileSize !== undefined) out += line("FileSize", entry.fileSize);
  return out;
}

/**
 * The block `guix publish` signs: `StorePath`, `NarHash`, `NarSize`,
 * `References`, then `Deriver` and `System` when present.
 *
 * @example
 * ```ts
 * import { guixSignedBlock } from "./serialize.ts";
 * guixSignedBlock({ storePath: "/gnu/store/x", narHash: "sha256:y", narSize: 1, references: [], entries: [] });
 * // "StorePath: /gnu/store/x\nNarHash: sha256:y\nNarSize: 1\nReferences: \n"
 * ```
 */
export function guixSignedBlock(info: NarinfoContent): string {
  let out = line("StorePath", info.storePath) + line("NarHash", info.narHash) +
    line("NarSize", info.narSize) + line("References", info.references.join(" "));
  if (info.deriver !== undefined) out += line("Deriver", info.deriver);
  if (info.system !== undefined) out += line("System", info.system);
  return out;
}

/**
 * The signed part of the old `guix publish` layout: `StorePath`, the URL
 * groups, `NarHash`, `NarSize`, `References`, then `System` and `Deriver`.
 *
 * @example
 * ```ts
 * import { guixOldSignedBlock } from "./serialize.ts";
 * guixOldSignedBlock({
 *   storePath: "/gnu/store/x", narHash: "sha256:y", narSize: 1, references: [],
 *   entries: [{ url: "nar/gzip/x", compression: "gzip", fileSize: 1 }],
 * }).split("\n")[1]; // "URL: nar/gzip/x"
 * ```
 */
export function guixOldSignedBlock(info: NarinfoContent): string {
  let out = line("StorePath", info.storePath);
  for (const entry of info.entries) out += entryLines(entry, false);
  out += line("NarHash", info.narHash) + line("NarSize", info.narSize) +
    line("References", info.references.join(" "));
  if (info.system !== undefined) out += line("System", info.system);
  if (info.deriver !== undefined) out += line("Deriver", info.deriver);
  return out;
}

/**
 * A Guix narinfo in the given layout (default `"publish"`). The `Signature`
 * line is written when `info.signature` is set; it must have been computed
 * over the signed block of the same layout.
 *
 * @example
 * ```ts
 * import { formatGuixNarinfo } from "./serialize.ts";
 * formatGuixNarinfo({
 *   storePath: "/gnu/store/x", narHash: "sha256:y", narSize: 1, references: [],
 *   signature: "1;host;AAAA", entries: [{ url: "nar/x", compression: "none" }],
 * }, "publish");
 * ```
 */
export function formatGuixNarinfo(
  info: NarinfoContent,
  layout: GuixNarinfoLayout = "publish",
): string {
  const signature = info.signature === undefined ? "" : line("Signature", info.signature);
  if (layout === "old") return guixOldSignedBlock(info) + signature;
  let out = guixSignedBlock(info) + signature;
  for (const entry of info.entries) out += entryLines(entry, false);
  return out;
}

/**
 * A Nix narinfo in `nix copy` order. Nix narinfos carry exactly one URL.
 *
 * @example
 * ```ts
 * import { formatNixNarinfo } from "./serialize.ts";
 * formatNixNarinfo({
 *   storePath: "/nix/store/x", narHash: "sha256:y", narSize: 1, references: [],
 *   sigs: ["k:AAAA"], entries: [{ url: "nar/y.nar", compression: "none", fileHash: "sha256:y", fileSize: 1 }],
 * });
 * ```
 * @throws {NarinfoError} when `info.entries` does not hold exactly one entry.
 */
export function formatNixNarinfo(info: NarinfoContent): string {
  if (info.entries.length !== 1) {
    throw new NarinfoError(
      `a Nix narinfo carries exactly one URL, got ${info.entries.length} entries`,
      { field: "URL" },
    );
  }
  let out = line("StorePath", info.storePath) + entryLines(info.entries[0]!, true) +
    line("NarHash", info.narHash) + line("NarSize", info.narSize) +
    line("References", info.references.join(" "));
  if (info.deriver !== undefined) out += line("Deriver", info.deriver);
  if (info.system !== undefined) out += line("System", info.system);
  for (const sig of info.sigs ?? []) out += line("Sig", sig);
  if (info.ca !== undefined) out += line("CA", info.ca);
  return out;
}
