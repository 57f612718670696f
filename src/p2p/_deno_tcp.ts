/**
 * Small helpers for the bulk lane's plain TCP connections (both ends): write
 * everything (optionally bounded per write), read an exact number of bytes
 * within a time limit, close without caring whether it already was.
 *
 * @example
 * ```ts
 * await writeAll(conn, frame, 30_000);
 * const hello = await readExactly(conn, 40, 5_000); // undefined: ended or too slow
 * closeQuietly(conn);
 * ```
 * @module
 */
import { StreamStalledError } from "./_channel.ts";

/**
 * Writes all of `bytes`; with `stallMs`, fails with {@linkcode StreamStalledError} when one
 * write takes that long.
 */
export async function writeAll(
  conn: Deno.Conn,
  bytes: Uint8Array,
  stallMs?: number,
): Promise<void> {
  for (let at = 0; at < bytes.length;) {
    if (stallMs === undefined) {
      at += await conn.write(bytes.subarray(at));
      continue;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      at += await Promise.race([
        conn.write(bytes.subarray(at)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new StreamStalledError(`the reader took nothing for ${stallMs / 1000} s`)),
            stallMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Exactly `n` bytes, or undefined if the connection ends or `timeoutMs` passes first. */
export async function readExactly(
  conn: Deno.Conn,
  n: number,
  timeoutMs: number,
): Promise<Uint8Array | undefined> {
  const out = new Uint8Array(n);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
  try {
    for (let at = 0; at < n;) {
      const got = await Promise.race([conn.read(out.subarray(at)), late]);
      if (got === null) return undefined;
      at += got;
    }
    return out;
  } finally {
    clearTimeout(timer);
  }
}

/** Closes a connection or listener that may be closed already. */
export function closeQuietly(c: { close(): void }): void {
  try {
    c.close();
  } catch {
    // already closed
  }
}
