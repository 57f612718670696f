/**
 * The Deno {@linkcode NarSource} of the NAR core: the real file system, read
 * with Deno's synchronous calls (several times cheaper per call than the async
 * ones, which dominates for trees of many small files). Symlinks are never
 * followed.
 *
 * @example
 * ```ts
 * import { denoNarSource } from "./deno_nar_source.ts";
 * import { narStream } from "../nar/mod.ts";
 * const nar = narStream(denoNarSource(), "/etc/hostname");
 * ```
 * @module
 */
import type { NarSource, NarSourceFile, NarSourceStat } from "../nar/mod.ts";

/**
 * A source over the real file system (symlinks are never followed).
 *
 * @example
 * ```ts
 * import { denoNarSource } from "./deno_nar_source.ts";
 * import { writeNar } from "../nar/mod.ts";
 * const size = await writeNar(denoNarSource(), "/etc/hostname", () => {});
 * ```
 */
export function denoNarSource(): NarSource {
  return {
    lstat(path): NarSourceStat {
      const st = Deno.lstatSync(path);
      if (st.isFile) {
        return { kind: "regular", size: st.size, executable: ((st.mode ?? 0) & 0o100) !== 0 };
      }
      if (st.isDirectory) return { kind: "directory" };
      if (st.isSymlink) return { kind: "symlink" };
      const type = st.isSocket
        ? "socket"
        : st.isFifo
        ? "FIFO"
        : st.isCharDevice
        ? "character device"
        : st.isBlockDevice
        ? "block device"
        : "unknown";
      return { kind: "unsupported", type };
    },
    readDir(path) {
      const names: string[] = [];
      for (const entry of Deno.readDirSync(path)) names.push(entry.name);
      return names;
    },
    readLink(path) {
      return Deno.readLinkSync(path);
    },
    open(path): NarSourceFile {
      const file = Deno.openSync(path, { read: true });
      let at = 0;
      return {
        read(into, position) {
          if (position !== at) {
            file.seekSync(position, Deno.SeekMode.Start);
            at = position;
          }
          const n = file.readSync(into);
          if (n === null) return 0;
          at += n;
          return n;
        },
        close() {
          file.close();
        },
      };
    },
  };
}
