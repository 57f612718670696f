/**
 * Unix-socket adapter of the control protocol: connect (client) and listen
 * (daemon, mode 0660 and an optional group).
 *
 * @example
 * ```ts
 * import { connectControlSocket } from "./deno_socket.ts";
 * const conn = await connectControlSocket("/var/cache/guix-p2p/control.sock", { timeoutMs: 2000 });
 * ```
 * @module
 */
import { FrameConnection } from "./connection.ts";
import { ControlConnectionError } from "./errors.ts";

/** Connects to the daemon's socket. @throws {ControlConnectionError} naming the path and cause. */
export async function connectControlSocket(
  path: string,
  options: { timeoutMs?: number; maxMessage?: number } = {},
): Promise<FrameConnection> {
  const timeoutMs = options.timeoutMs ?? 5000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const conn = await Promise.race([
      Deno.connect({ transport: "unix", path }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
    return new FrameConnection(conn, {
      label: `daemon socket ${path}`,
      ...(options.maxMessage ? { maxMessage: options.maxMessage } : {}),
    });
  } catch (e) {
    throw new ControlConnectionError(
      `cannot connect to the daemon at ${path}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/**
 * Listens on `path` (a stale socket file is replaced; any other existing file
 * is an error), then sets mode 0660 and, if given, the group.
 */
export async function listenControlSocket(
  path: string,
  options: { group?: string } = {},
): Promise<Deno.UnixListener> {
  try {
    const st = await Deno.lstat(path);
    if (!st.isSocket) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
    if (await isLive(path)) throw new Error(`another daemon is already listening on ${path}`);
    await Deno.remove(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const listener = Deno.listen({ transport: "unix", path });
  await Deno.chmod(path, 0o660);
  if (options.group) {
    const gid = await groupId(options.group);
    await Deno.chown(path, null, gid);
  }
  return listener;
}

async function isLive(path: string): Promise<boolean> {
  try {
    const c = await Deno.connect({ transport: "unix", path });
    c.close();
    return true;
  } catch {
    return false;
  }
}

async function groupId(group: string): Promise<number> {
  if (/^\d+$/.test(group)) return Number(group);
  const text = await Deno.readTextFile("/etc/group");
  for (const line of text.split("\n")) {
    const [name, , gid] = line.split(":");
    if (name === group && gid !== undefined) return Number(gid);
  }
  throw new Error(`socket_group: no group named "${group}" in /etc/group`);
}
