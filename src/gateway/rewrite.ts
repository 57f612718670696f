/**
 * Narinfo rewriting for the gateway: the download fields (`URL`,
 * `Compression`, `FileHash`, `FileSize`) are not signed by Nix, and not by
 * Guix when they come after `Signature:` — so they can point at the
 * gateway's own NAR endpoint, which serves the uncompressed NAR from the swarm
 * or upstream. The signed fields are never touched.
 *
 * @example
 * ```ts
 * rewriteNixNarinfo(narinfo); // "StorePath: …\nURL: nar/<hash part>/<narhash>.nar\nCompression: none\n…Sig: …\n"
 * ```
 * @module
 */
import { nix32Encode } from "../encoding/nix32.ts";
import { formatNarHash } from "../hash/nar_hash.ts";
import { formatNixNarinfo, type Narinfo } from "../narinfo/mod.ts";

/** The gateway's NAR path for an item: `nar/<hash part>/<NarHash nix32>.nar`. */
export function narPath(hashPart: string, narHashDigest: Uint8Array): string {
  return `nar/${hashPart}/${nix32Encode(narHashDigest)}.nar`;
}

/** A Nix narinfo whose only download is the gateway's uncompressed NAR. */
export function rewriteNixNarinfo(narinfo: Narinfo): string {
  const hashPart = narinfo.storePath.slice(
    narinfo.storeDir.length + 1,
    narinfo.storeDir.length + 33,
  );
  return formatNixNarinfo({
    ...narinfo,
    narHash: formatNarHash(narinfo.narHashDigest),
    entries: [{
      url: narPath(hashPart, narinfo.narHashDigest),
      compression: "none",
      fileHash: formatNarHash(narinfo.narHashDigest),
      fileSize: narinfo.narSize,
    }],
  });
}

/**
 * A Guix narinfo pointing at the gateway, when the download fields follow
 * `Signature:` (current `guix publish` layout): the text up to and including
 * the Signature line is kept byte for byte. Returns undefined for the old
 * layout (URLs inside the signed part), which must be served untouched.
 */
export function rewriteGuixNarinfo(narinfo: Narinfo): string | undefined {
  const prefix = narinfo.signedPrefix;
  if (prefix === undefined) return undefined;
  if (/^(URL|Compression|FileSize|FileHash):/m.test(prefix)) return undefined;
  const text = narinfo.text;
  const sigEnd = text.indexOf("\n", prefix.length);
  if (sigEnd < 0) return undefined;
  const hashPart = narinfo.storePath.slice(
    narinfo.storeDir.length + 1,
    narinfo.storeDir.length + 33,
  );
  return `${text.slice(0, sigEnd + 1)}URL: ${
    narPath(hashPart, narinfo.narHashDigest)
  }\nCompression: none\nFileSize: ${narinfo.narSize}\n`;
}
