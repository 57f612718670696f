/**
 * `--query` requests: `have` and `info`, answered from narinfos the daemon
 * fetched but that this process authorizes itself (signature against the ACL,
 * StorePath equal to the request).
 *
 * @example
 * ```ts
 * const reply = await answerQuery({ kind: "have", paths }, session);
 * fd4.write(reply);
 * ```
 * @module
 */
import { orderEntries } from "../fetch/order.ts";
import { KeyTables, TABLE_AFTER_USES } from "./_key_tables.ts";
import type { LookupItem } from "../control/messages.ts";
import type { Narinfo } from "../narinfo/mod.ts";
import { haveReply, type InfoRecord, infoReply } from "./replies.ts";
import type { QueryRequest } from "./requests.ts";
import type { Session } from "./session.ts";

/** This process's policy for building ACL key tables (shared by every request). */
const keyTables = new KeyTables();

/** Compressions assumed decodable when estimating `info`'s download size. */
const ASSUMED_SUPPORTED = ["none", "gzip", "zstd", "lzip", "xz", "bzip2"];

/** Authorized narinfos for `paths` (unauthorized or missing ones are left out). */
export async function authorizedNarinfos(
  paths: string[],
  session: Session,
): Promise<Map<string, Narinfo>> {
  const out = new Map<string, Narinfo>();
  if (paths.length === 0) return out;
  const client = await session.daemon.client();
  const pending = client.lookup(paths, {
    ...(session.urls ? { urls: session.urls } : {}),
    ...(session.policy ? { policy: session.policy } : {}),
  });
  pending.catch(() => {}); // awaited below; not "unhandled" while the tables are built
  if (paths.length >= TABLE_AFTER_USES) await prepareTables(session, paths.length);
  const items = await pending;
  const requested = new Set(paths);
  let upcoming = items.filter((i) => i.kind === "found").length;
  for (const item of items) {
    if (item.kind !== "found") continue;
    upcoming--;
    if (!requested.has(item.storePath) || out.has(item.storePath)) continue;
    const narinfo = await authorizeItem(item, session, upcoming);
    if (narinfo) out.set(item.storePath, narinfo);
  }
  return out;
}

/**
 * The narinfo of one `lookup` answer if this process authorizes it
 * (signature against the ACL, StorePath equal to the item's); a refusal is
 * logged. `upcoming`: how many more checks follow (for the key tables).
 */
export async function authorizeItem(
  item: LookupItem,
  session: Session,
  upcoming = 0,
): Promise<Narinfo | undefined> {
  if (item.kind !== "found") return undefined;
  const authorizer = await session.authorizer();
  const verdict = authorizer.check(item.narinfo, item.storePath);
  if (verdict.kind === "authorized") {
    if (authorizer.trust.flavour === "guix") {
      keyTables.noteUse(authorizer.trust.acl, verdict.signer, upcoming);
    }
    return verdict.narinfo;
  }
  session.log(`guix-p2p-substitute: ignoring narinfo for ${item.storePath}: ${verdict.reason}\n`);
  return undefined;
}

/**
 * While the daemon resolves a big batch: the ACL keys' tables, built in this
 * process's otherwise idle wait instead of after the answer (~10–30 ms of a
 * fresh process's CPU, docs/benchmarks.md "Closure (issue 9)").
 */
async function prepareTables(session: Session, upcoming: number): Promise<void> {
  // Let the request reach the socket first: building the tables holds the event loop.
  await new Promise((resolve) => setTimeout(resolve, 0));
  const authorizer = await session.authorizer();
  if (authorizer.trust.flavour === "guix" && !authorizer.trust.allowUnauthenticated) {
    keyTables.prepare(authorizer.trust.acl, upcoming);
  }
}

/** The `info` record of an authorized narinfo. */
export function infoRecord(narinfo: Narinfo, session: Session): InfoRecord {
  const dir = session.storeDir;
  const best =
    orderEntries(narinfo.entries, ASSUMED_SUPPORTED, session.config.compression_preference)[0];
  return {
    path: narinfo.storePath,
    deriver: narinfo.deriver ? `${dir}/${narinfo.deriver}` : "",
    references: narinfo.references.map((r) => `${dir}/${r}`),
    downloadSize: best?.fileSize ?? 0,
    narSize: narinfo.narSize,
  };
}

/** The reply text for a query request. */
export async function answerQuery(request: QueryRequest, session: Session): Promise<string> {
  if (request.kind === "empty") return "";
  if (request.paths.length === 0) return "\n";
  const found = await authorizedNarinfos(request.paths, session);
  if (request.kind === "have") return haveReply(request.paths.filter((p) => found.has(p)));
  return infoReply(request.paths.flatMap((p) => {
    const n = found.get(p);
    return n ? [infoRecord(n, session)] : [];
  }));
}
