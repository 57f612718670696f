/**
 * The node's libp2p identity: an Ed25519 key pair kept in
 * `<cache_dir>/identity.key` (libp2p protobuf encoding, mode 0600), created
 * on first start and reused afterwards so the PeerId survives restarts.
 *
 * @example
 * ```ts
 * import { loadOrCreateIdentity } from "./deno_identity.ts";
 * const key = await loadOrCreateIdentity("/var/cache/guix-p2p");
 * ```
 * @module
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";

/** Loads the identity from `dir/identity.key`, or creates it. Rejects a key file readable by others. */
export async function loadOrCreateIdentity(dir: string): Promise<PrivateKey> {
  const path = `${dir}/identity.key`;
  try {
    const st = await Deno.stat(path);
    if (st.mode !== null && (st.mode & 0o077) !== 0) {
      throw new Error(
        `${path} is accessible by other users (mode ${
          (st.mode & 0o777).toString(8)
        }); expected 0600`,
      );
    }
    const bytes = await Deno.readFile(path);
    try {
      return privateKeyFromProtobuf(bytes);
    } catch (e) {
      throw new Error(`${path}: not a libp2p private key: ${(e as Error).message}`);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  await Deno.mkdir(dir, { recursive: true });
  const key = await generateKeyPair("Ed25519");
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeFile(tmp, privateKeyToProtobuf(key), { mode: 0o600 });
  await Deno.rename(tmp, path);
  return key;
}
