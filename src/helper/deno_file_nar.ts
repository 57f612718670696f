/**
 * Reading a NAR from the file the daemon names (a P2P download in its block
 * cache) instead of receiving it through the socket. The helper runs as
 * root and trusts the daemon with nothing, so the name must be exactly
 * `<cache_dir>/blocks/<NarHash hex>.nar` for the NarHash of the narinfo the
 * helper itself verified, no component may be a symbolic link, and the
 * opened file must be the same regular file that was checked (device and
 * inode, so a swap between the check and the open is caught), with one link,
 * owned by whoever owns the cache directory (the daemon's user). Opening and
 * every read are bounded by the fetch's deadline (a FIFO or a hung mount
 * cannot hold the helper). Every byte read is hashed and restored like bytes
 * from the socket: a wrong file only ever yields a hash mismatch.
 *
 * @example
 * ```ts
 * const file = await openDaemonFile(path, { cacheDir: "/var/cache/guix-p2p", narHashHex });
 * const chunk = await file.read(0, 65536);
 * file.close();
 * ```
 * @module
 */

/** Raised when the daemon names a file the helper will not read. */
export class DaemonFileError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "DaemonFileError";
  }
}

/** An opened NAR file. */
export interface DaemonFile {
  /** Reads up to `length` bytes at `offset` (fewer only at the end of the file). */
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): void;
}

/** Opens the daemon's NAR file after checking its name, its path and its type. */
export async function openDaemonFile(
  path: string,
  expected: { cacheDir: string; narHashHex: string; deadline?: number },
): Promise<DaemonFile> {
  const bounded = <T>(p: Promise<T>, what: string) => withinDeadline(p, expected.deadline, what);
  const cacheDir = expected.cacheDir.replace(/\/+$/, "");
  if (!/^[0-9a-f]{64}$/.test(expected.narHashHex)) {
    throw new DaemonFileError(`${JSON.stringify(expected.narHashHex)} is not a NarHash in hex`);
  }
  const want = `${cacheDir}/blocks/${expected.narHashHex}.nar`;
  if (path !== want) {
    throw new DaemonFileError(`the daemon named ${JSON.stringify(path)}, expected ${want}`);
  }
  for (const p of [`${cacheDir}/blocks`, want]) {
    const st = await Deno.lstat(p).catch((e) => {
      throw new DaemonFileError(`${p}: ${(e as Error).message}`);
    });
    if (st.isSymlink) throw new DaemonFileError(`${p} is a symbolic link`);
    if (p === want ? !st.isFile : !st.isDirectory) {
      throw new DaemonFileError(`${p} is not a ${p === want ? "regular file" : "directory"}`);
    }
  }
  const checked = await Deno.lstat(want);
  const owner = (await Deno.lstat(cacheDir)).uid;
  const file = await bounded(Deno.open(want, { read: true }), `opening ${want}`);
  try {
    const st = await bounded(file.stat(), `stat of ${want}`);
    if (!st.isFile) throw new DaemonFileError(`${want} is not a regular file`);
    if (st.dev !== checked.dev || st.ino !== checked.ino) {
      throw new DaemonFileError(`${want} changed between its check and its opening`);
    }
    if (st.nlink !== 1) throw new DaemonFileError(`${want} has ${st.nlink} links, expected 1`);
    if (st.uid !== owner) {
      throw new DaemonFileError(
        `${want} is owned by uid ${st.uid}, not the cache's owner ${owner}`,
      );
    }
  } catch (e) {
    file.close();
    throw e;
  }
  return {
    async read(offset, length) {
      const out = new Uint8Array(length);
      await bounded(file.seek(offset, Deno.SeekMode.Start), `seeking ${want}`);
      let got = 0;
      while (got < length) {
        const n = await bounded(file.read(out.subarray(got)), `reading ${want}`);
        if (n === null) break;
        got += n;
      }
      return got === length ? out : out.subarray(0, got);
    },
    close() {
      try {
        file.close();
      } catch {
        // already closed
      }
    },
  };
}

/** `promise`, or a {@linkcode DaemonFileError} once `deadline` (epoch ms) passes. */
function withinDeadline<T>(promise: Promise<T>, deadline: number | undefined, what: string) {
  if (deadline === undefined) return promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DaemonFileError(`${what}: past the fetch's deadline`)),
        Math.max(0, deadline - Date.now()),
      );
    }),
  ]).finally(() => clearTimeout(timer));
}
