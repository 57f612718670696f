/**
 * Builds signed Guix substitute caches for tests: store items from trees,
 * their NARs compressed with the real Debian tools (zstd, lzip/plzip, gzip,
 * xz), narinfos in the `guix publish` or old layout signed with our signer,
 * and the ACL and key files — laid out as `guix publish` serves them
 * (`/<hash>.narinfo`, `/nar/<comp>/<basename>`).
 *
 * @module
 */
import { nix32Encode } from "../../src/encoding/nix32.ts";
import { formatNarHash } from "../../src/hash/nar_hash.ts";
import { dumpPath, hashPath } from "../../src/fs/mod.ts";
import type { NarinfoContent, NarinfoEntry } from "../../src/narinfo/mod.ts";
import {
  aclFromKeys,
  formatAcl,
  generateGuixKey,
  type GuixPrivateKey,
  signGuixNarinfo,
} from "../../src/trust/mod.ts";

/** A compression the fixtures can produce. */
export type FixtureCompression = "none" | "zstd" | "lzip" | "gzip" | "xz";

const COMPRESS: Record<Exclude<FixtureCompression, "none">, string[]> = {
  zstd: ["zstd", "-q", "-3", "-c"],
  lzip: ["lzip", "-c", "-6"],
  gzip: ["gzip", "-c", "-6"],
  xz: ["xz", "-c", "-3", "-T1"],
};

/** A store item made for tests. */
export interface FixtureItem {
  storePath: string;
  baseName: string;
  hashPart: string;
  /** The tree the item was made from. */
  source: string;
  narHash: string;
  narSize: number;
  references: string[];
  deriver?: string;
}

/** Random store hash part (32 nix32 characters). */
export function randomHashPart(): string {
  return nix32Encode(crypto.getRandomValues(new Uint8Array(20)));
}

/** Makes a store path name for a tree and hashes its NAR (nothing is copied into a store). */
export async function makeItem(
  source: string,
  options: {
    storeDir: string;
    name: string;
    references?: string[];
    deriver?: string;
    hashPart?: string;
  },
): Promise<FixtureItem> {
  const hashPart = options.hashPart ?? randomHashPart();
  const baseName = `${hashPart}-${options.name}`;
  const { digest, size } = await hashPath(source);
  return {
    storePath: `${options.storeDir}/${baseName}`,
    baseName,
    hashPart,
    source,
    narHash: formatNarHash(digest),
    narSize: size,
    references: options.references ?? [],
    ...(options.deriver ? { deriver: options.deriver } : {}),
  };
}

/** A Guix signing key with its ACL text. */
export interface FixtureKey {
  key: GuixPrivateKey;
  aclText: string;
}

/** A fresh key and an ACL authorizing it. */
export function makeKey(): FixtureKey {
  const key = generateGuixKey();
  return { key, aclText: formatAcl(aclFromKeys([key.publicKey])) };
}

/** Options of {@linkcode publishItem}. */
export interface PublishOptions {
  key: GuixPrivateKey;
  /** Compressions to offer, in narinfo order. Default `["zstd", "lzip"]`. */
  compressions?: FixtureCompression[];
  /** `publish` (URLs after Signature) or `old` (URLs signed). Default `publish`. */
  layout?: "publish" | "old";
  /** Host name in the Signature. */
  host?: string;
  /** Rewrites the narinfo text before it is written (to build broken ones). */
  tamper?: (text: string) => string;
  /** Omit FileSize lines. */
  noFileSize?: boolean;
}

/** Writes the item's NARs and signed narinfo into `cacheDir`; returns the narinfo text. */
export async function publishItem(
  cacheDir: string,
  item: FixtureItem,
  options: PublishOptions,
): Promise<string> {
  const compressions = options.compressions ?? ["zstd", "lzip"];
  const entries: NarinfoEntry[] = [];
  const rawDir = `${cacheDir}/nar`;
  await Deno.mkdir(rawDir, { recursive: true });
  const rawNar = `${rawDir}/${item.baseName}`;
  await dumpPath(item.source).pipeTo(
    (await Deno.open(rawNar, { write: true, create: true, truncate: true })).writable,
  );
  for (const c of compressions) {
    let file = rawNar;
    let url = `nar/${item.baseName}`;
    if (c !== "none") {
      await Deno.mkdir(`${rawDir}/${c}`, { recursive: true });
      file = `${rawDir}/${c}/${item.baseName}`;
      url = `nar/${c}/${item.baseName}`;
      await compressFile(rawNar, file, c);
    }
    const size = (await Deno.stat(file)).size;
    entries.push({ url, compression: c, ...(options.noFileSize ? {} : { fileSize: size }) });
  }
  const info: NarinfoContent = {
    storePath: item.storePath,
    narHash: item.narHash,
    narSize: item.narSize,
    references: item.references,
    ...(item.deriver ? { deriver: item.deriver } : {}),
    entries,
  };
  let text = signGuixNarinfo(
    info,
    options.key,
    options.host ?? "test-host",
    options.layout ?? "publish",
  );
  if (options.tamper) text = options.tamper(text);
  await Deno.writeTextFile(`${cacheDir}/${item.hashPart}.narinfo`, text);
  return text;
}

/** Compresses `from` into `to` with the real command-line tool. */
export async function compressFile(
  from: string,
  to: string,
  c: Exclude<FixtureCompression, "none">,
): Promise<void> {
  const [cmd, ...args] = COMPRESS[c];
  const input = await Deno.open(from);
  const output = await Deno.open(to, { write: true, create: true, truncate: true });
  const child = new Deno.Command(cmd!, { args, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const [status] = await Promise.all([
    child.status,
    input.readable.pipeTo(child.stdin),
    child.stdout.pipeTo(output.writable),
    child.stderr.pipeTo(new WritableStream()),
  ]);
  if (!status.success) throw new Error(`${cmd} failed with ${status.code}`);
}

/** Writes `acl` (and key files) into a Guix configuration directory. */
export async function writeGuixConfig(dir: string, key: FixtureKey): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/acl`, key.aclText);
  await Deno.writeTextFile(`${dir}/signing-key.pub`, key.key.publicKey.format());
  await Deno.writeTextFile(`${dir}/signing-key.sec`, key.key.format());
}
