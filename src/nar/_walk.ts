/**
 * The tree walk shared by the NAR writer and the layout index: it visits a
 * {@linkcode NarSource} in NAR order and reports literal NAR bytes and the
 * places where file contents go, without reading any file itself.
 *
 * @example
 * ```ts
 * import { walkNar } from "./_walk.ts";
 * import { memoryNarSource } from "./memory_source.ts";
 * let size = 0;
 * await walkNar(memoryNarSource({ kind: "directory", entries: {} }), "/", {
 *   bytes: (b) => void (size += b.length),
 *   u64: () => void (size += 8),
 *   contents: (_path, n) => void (size += n),
 *   pause: () => undefined,
 * });
 * size; // 96
 * ```
 * @module
 */
import { compareBytes, MAX_TARGET_BYTES, padLength, TOKENS } from "./_format.ts";
import { NarSourceError } from "./errors.ts";
import { joinSourcePath, type MaybePromise, type NarSource } from "./source.ts";

/** Receives the NAR of a tree piece by piece. */
export interface NarWalkVisitor {
  /** Literal NAR bytes. The array may be shared: copy it, do not keep it. */
  bytes(bytes: Uint8Array): void;
  /** A `u64le` integer. */
  u64(value: number): void;
  /** The `size` (> 0) content bytes of regular file `path` go here. */
  contents(path: string, size: number): MaybePromise<void>;
  /** Called between nodes: return a promise to make the walk wait (backpressure). */
  pause(): Promise<void> | undefined;
}

/** Options of {@linkcode walkNar}. */
export interface WalkOptions {
  /** Stops the walk with the signal's reason. */
  signal?: AbortSignal | undefined;
}

const encoder = new TextEncoder();
const ZEROS = new Uint8Array(8);
const REPLACEMENT = "\uFFFD";

/**
 * Walks `path` in `source` and feeds its NAR to `visitor`.
 * @throws {NarSourceError} for unsupported file types, non-UTF-8 names or source failures.
 */
export async function walkNar(
  source: NarSource,
  path: string,
  visitor: NarWalkVisitor,
  options: WalkOptions = {},
): Promise<void> {
  const signal = options.signal;
  const str = (b: Uint8Array) => {
    visitor.u64(b.length);
    visitor.bytes(b);
    visitor.bytes(ZEROS.subarray(0, padLength(b.length)));
  };

  const node = async (path: string): Promise<void> => {
    signal?.throwIfAborted();
    const paused = visitor.pause();
    if (paused) await paused;
    let st = call(path, () => source.lstat(path));
    if (st instanceof Promise) st = await st;
    switch (st.kind) {
      case "regular": {
        visitor.bytes(st.executable ? TOKENS.executableHead : TOKENS.regularHead);
        visitor.u64(st.size);
        if (st.size > 0) {
          const r = visitor.contents(path, st.size);
          if (r) await r;
        }
        visitor.bytes(ZEROS.subarray(0, padLength(st.size)));
        visitor.bytes(TOKENS.close);
        return;
      }
      case "symlink": {
        let target = call(path, () => source.readLink(path));
        if (target instanceof Promise) target = await target;
        if (target.includes(REPLACEMENT)) {
          throw new NarSourceError(
            `symlink target ${
              JSON.stringify(target)
            } contains U+FFFD: it is not valid UTF-8 and cannot be read faithfully`,
            path,
          );
        }
        const bytes = encoder.encode(target);
        if (bytes.length === 0 || bytes.length > MAX_TARGET_BYTES) {
          throw new NarSourceError(`symlink target is ${bytes.length} bytes long`, path);
        }
        visitor.bytes(TOKENS.symlinkHead);
        str(bytes);
        visitor.bytes(TOKENS.close);
        return;
      }
      case "directory": {
        let names = call(path, () => source.readDir(path));
        if (names instanceof Promise) names = await names;
        const entries = names.map((name) => ({ name, bytes: encoder.encode(name) }));
        entries.sort((a, b) => compareBytes(a.bytes, b.bytes));
        for (let i = 1; i < entries.length; i++) {
          if (compareBytes(entries[i - 1]!.bytes, entries[i]!.bytes) === 0) {
            throw new NarSourceError(
              `two entries are named ${JSON.stringify(entries[i]!.name)}` +
                (entries[i]!.name.includes(REPLACEMENT)
                  ? " (a non-UTF-8 name decodes to U+FFFD and cannot be told apart)"
                  : ""),
              path,
            );
          }
        }
        visitor.bytes(TOKENS.directoryHead);
        for (const entry of entries) {
          visitor.bytes(TOKENS.entryHead);
          str(entry.bytes);
          visitor.bytes(TOKENS.node);
          await node(joinSourcePath(path, entry.name));
          visitor.bytes(TOKENS.close);
        }
        visitor.bytes(TOKENS.close);
        return;
      }
      case "unsupported":
        throw new NarSourceError(
          `unsupported file type (${st.type}): a NAR holds only regular files, directories and symlinks`,
          path,
        );
    }
  };

  visitor.bytes(TOKENS.magic);
  await node(path);
}

/** Runs a source call; wraps foreign errors in a NarSourceError naming `path`. */
function call<T>(path: string, fn: () => MaybePromise<T>): MaybePromise<T> {
  let result: MaybePromise<T>;
  try {
    result = fn();
  } catch (e) {
    throw wrap(e, path);
  }
  return result instanceof Promise ? result.catch((e) => Promise.reject(wrap(e, path))) : result;
}

function wrap(e: unknown, path: string): unknown {
  if (e instanceof NarSourceError || (e instanceof DOMException && e.name === "AbortError")) {
    return e;
  }
  if (path.includes(REPLACEMENT)) {
    return new NarSourceError(
      "the file name is not valid UTF-8 (it was read back with U+FFFD replacement characters " +
        "and no longer names the file); a NAR of it cannot be written from Deno",
      path,
      { cause: e },
    );
  }
  return new NarSourceError(e instanceof Error ? e.message : String(e), path, { cause: e });
}
