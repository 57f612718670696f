/**
 * The requester's end of a bulk lane (docs/protocol.md §3.7): a plain TCP
 * connection to the port a peer named in its `bulk-ticket`, opened with
 * `GP2PBLK2` + the ticket and accepted by one byte. What it carries is the
 * block exchange's frames, checked like any others (block hashes, NarHash);
 * nothing on it is trusted more than on the encrypted stream — less, since
 * a bad block on it is the lane's fault, not provably the peer's.
 *
 * @example
 * ```ts
 * const lane = await dialBulk("192.168.1.9", 40123, ticket, { signal: AbortSignal.timeout(3000) });
 * await lane.send(frame);
 * for await (const chunk of lane.source) console.log(chunk.length);
 * ```
 * @module
 */
import { BULK_ACCEPTED, BULK_HELLO_MAGIC } from "../wire/mod.ts";

/** An open bulk lane. */
export interface BulkConnection {
  /** The bytes the peer sends. */
  readonly source: AsyncIterable<Uint8Array>;
  /** Sends bytes (in order; calls may overlap). */
  send(bytes: Uint8Array): Promise<void>;
  /** Closes the connection. */
  close(): void;
}

/** Opens a bulk lane to `host`:`port` with `ticket`. */
export type BulkDialer = (
  host: string,
  port: number,
  ticket: Uint8Array,
  options: { signal: AbortSignal },
) => Promise<BulkConnection>;

/** The {@linkcode BulkDialer} over Deno's TCP. */
export const dialBulk: BulkDialer = async (host, port, ticket, { signal }) => {
  signal.throwIfAborted();
  // A host that drops SYNs would hold a connect for minutes: the signal bounds it.
  const connecting = Deno.connect({ hostname: host, port, transport: "tcp" });
  const aborted = new Promise<never>((_, reject) =>
    signal.addEventListener("abort", () => reject(signal.reason), { once: true })
  );
  let conn: Deno.TcpConn;
  try {
    conn = await Promise.race([connecting, aborted]);
  } catch (e) {
    connecting.then(closeQuietly, () => {});
    throw e;
  }
  const onAbort = () => closeQuietly(conn);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    conn.setNoDelay(true);
    const hello = new Uint8Array(BULK_HELLO_MAGIC.length + ticket.length);
    hello.set(BULK_HELLO_MAGIC);
    hello.set(ticket, BULK_HELLO_MAGIC.length);
    await writeAll(conn, hello);
    const answer = new Uint8Array(1);
    const n = await conn.read(answer);
    if (n !== 1 || answer[0] !== BULK_ACCEPTED) throw new Error("bulk lane refused");
  } catch (e) {
    closeQuietly(conn);
    throw signal.aborted ? signal.reason : e;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  let writing: Promise<void> = Promise.resolve();
  return {
    source: conn.readable,
    send: (bytes) => {
      const next = writing.then(() => writeAll(conn, bytes));
      writing = next.catch(() => {});
      return next;
    },
    close: () => closeQuietly(conn),
  };
};

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}
