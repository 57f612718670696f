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
import { closeQuietly, writeAll } from "../_deno_tcp.ts";
import { BULK_ACCEPTED, BULK_HELLO_MAGIC, DEFAULT_MAX_MESSAGE_SIZE } from "../wire/mod.ts";

/** A send on a lane that moves no byte for this long fails. */
const SEND_STALL_MS = 30_000;

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
  options: {
    signal: AbortSignal;
    /** Largest frame payload accepted (`max_message_size`); default 8 MiB. */
    maxMessageSize?: number;
  },
) => Promise<BulkConnection>;

/** The {@linkcode BulkDialer} over Deno's TCP. */
export const dialBulk: BulkDialer = async (host, port, ticket, { signal, maxMessageSize }) => {
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
    source: wholeFrames(conn, maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE),
    send: (bytes) => {
      // A peer that stops reading fails the send (the link moves the lane's requests to the
      // stream) instead of holding them queued behind it.
      const next = writing.then(() => writeAll(conn, bytes, SEND_STALL_MS));
      writing = next.catch(() => {});
      return next;
    },
    close: () => closeQuietly(conn),
  };
};

/**
 * The lane's bytes as whole frames, one buffer each, read into directly: a
 * block arrives in one allocation instead of 64 KiB read buffers plus the
 * decoder's copy of the frame they split (half the ArrayBuffer bytes per
 * received byte, whose garbage sets the leecher's peak memory:
 * docs/benchmarks.md, issue 9). A length over `maxFrame` is passed on alone
 * (the decoder rejects it; nothing that size is allocated); a connection
 * that ends inside a frame yields what came (the decoder says so).
 */
async function* wholeFrames(conn: Deno.Conn, maxFrame: number): AsyncGenerator<Uint8Array> {
  const head = new Uint8Array(4);
  for (;;) {
    const got = await readInto(conn, head, 0);
    if (got < head.length) {
      if (got > 0) yield head.slice(0, got);
      return;
    }
    const length = ((head[0]! << 24) >>> 0) + (head[1]! << 16) + (head[2]! << 8) + head[3]!;
    if (length > maxFrame) {
      yield head.slice();
      return;
    }
    const frame = new Uint8Array(4 + length);
    frame.set(head);
    const end = await readInto(conn, frame, 4);
    yield end === frame.length ? frame : frame.subarray(0, end);
    if (end < frame.length) return;
  }
}

/** Reads into `buf` from `at` until it is full or the connection ends; returns the end. */
async function readInto(conn: Deno.Conn, buf: Uint8Array, at: number): Promise<number> {
  while (at < buf.length) {
    const n = await conn.read(buf.subarray(at));
    if (n === null) break;
    at += n;
  }
  return at;
}
