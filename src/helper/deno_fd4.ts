/**
 * The reply channel to guix-daemon: file descriptor 4 (a pipe). Deno's
 * `node:fs` cannot write inherited numeric fds, so `/dev/fd/4` is opened once
 * (../shared/docs/platform-notes.md §5). Before opening, `/proc/self/fd/4` must be a pipe (or
 * a terminal, for manual runs): a descriptor we did not inherit may be one of
 * Deno's own, and is never written.
 *
 * @example
 * ```ts
 * import { openReplyChannel } from "./deno_fd4.ts";
 * const fd4 = openReplyChannel();
 * fd4.write("success sha256:… 1064\n"); // one write(2)
 * ```
 * @module
 */
import { ReplyChannelError } from "./errors.ts";

/** Where replies go. */
export interface ReplyChannel {
  /** Writes `text` with a single write(2); throws if it was not written whole. */
  write(text: string): void;
}

const encoder = new TextEncoder();

/** Opens fd 4. @throws {ReplyChannelError} when fd 4 was not inherited as a pipe or terminal. */
export function openReplyChannel(path = "/dev/fd/4"): ReplyChannel {
  let target: string;
  try {
    target = Deno.readLinkSync(path.replace("/dev/fd/", "/proc/self/fd/"));
  } catch (e) {
    throw new ReplyChannelError(`file descriptor 4 is not open (not started by guix-daemon?)`, {
      cause: e,
    });
  }
  if (!target.startsWith("pipe:") && !/^\/dev\/(pts\/\d+|tty\w*)$/.test(target)) {
    throw new ReplyChannelError(
      `file descriptor 4 is "${target}", not a pipe from guix-daemon; refusing to write to it`,
    );
  }
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { write: true });
  } catch (e) {
    throw new ReplyChannelError(`cannot open ${path}: ${(e as Error).message}`, { cause: e });
  }
  return {
    write(text: string): void {
      const bytes = encoder.encode(text);
      if (bytes.length > 4096 && text.startsWith("success")) {
        throw new ReplyChannelError(`status line of ${bytes.length} bytes exceeds PIPE_BUF`);
      }
      let written = 0;
      while (written < bytes.length) {
        // Status lines (≤ 4096 bytes) go out in one write; query replies may take several.
        written += file.writeSync(bytes.subarray(written));
      }
    },
  };
}
