/**
 * Reading a NAR from the file the daemon names (a P2P download in its block
 * cache) instead of receiving it through the socket. The helper runs as
 * root and trusts the daemon with nothing, so the name must be exactly
 * `<cache_dir>/blocks/<NarHash hex>/data` for the NarHash of the narinfo the
 * helper itself verified, no component may be a symbolic link, and the
 * opened file must be a regular file; every byte read is hashed and restored
 * like bytes from the socket (a wrong file only ever yields a hash mismatch).
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
  expected: { cacheDir: string; narHashHex: string },
): Promise<DaemonFile> {
  const cacheDir = expected.cacheDir.replace(/\/+$/, "");
  const want = `${cacheDir}/blocks/${expected.narHashHex}/data`;
  if (path !== want) {
    throw new DaemonFileError(`the daemon named ${JSON.stringify(path)}, expected ${want}`);
  }
  for (const p of [`${cacheDir}/blocks`, `${cacheDir}/blocks/${expected.narHashHex}`, want]) {
    const st = await Deno.lstat(p).catch((e) => {
      throw new DaemonFileError(`${p}: ${(e as Error).message}`);
    });
    if (st.isSymlink) throw new DaemonFileError(`${p} is a symbolic link`);
    if (p === want ? !st.isFile : !st.isDirectory) {
      throw new DaemonFileError(`${p} is not a ${p === want ? "regular file" : "directory"}`);
    }
  }
  const file = await Deno.open(want, { read: true });
  const st = await file.stat();
  if (!st.isFile) {
    file.close();
    throw new DaemonFileError(`${want} is not a regular file`);
  }
  return {
    async read(offset, length) {
      const out = new Uint8Array(length);
      await file.seek(offset, Deno.SeekMode.Start);
      let got = 0;
      while (got < length) {
        const n = await file.read(out.subarray(got));
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
