/**
 * The substitute helper: `guix-p2p-substitute --query | --substitute` (also
 * `guix-p2p substitute ...`), run by guix-daemon through the Guix extension.
 * Requests come on stdin, replies go to fd 4 only, logs to stderr. A failed
 * item gets a failure status and the process stays alive for the next one;
 * at EOF on stdin it exits 0.
 *
 * Routing (GUIX_P2P_SUBSTITUTE_ROUTING): `p2p-first` and `p2p-only` ask the
 * guix-p2p daemon; `builtin-first` asks Guix's built-in substituter first and
 * the daemon only for what it lacks. When the daemon cannot be reached, the
 * built-in substituter (if the extension told us where it is) answers instead.
 *
 * @example
 * ```sh
 * guix-p2p-substitute --query        # as guix-daemon runs it, with fd 4 open
 * ```
 * @module
 */
import type { SourceKind } from "../fetch/types.ts";
import { ControlConnectionError } from "../control/errors.ts";
import { BuiltinSubstituter, infoPaths } from "./builtin.ts";
import { openReplyChannel, type ReplyChannel } from "./deno_fd4.ts";
import { RequestError } from "./errors.ts";
import { readLines } from "./_lines.ts";
import { parseQueryLine, parseSubstituteLine, type QueryRequest } from "./requests.ts";
import { openSession, type Session } from "./session.ts";
import { statusFor } from "./status.ts";
import { failureLine } from "./replies.ts";

const encoder = new TextEncoder();

function stderr(text: string): void {
  const bytes = encoder.encode(text);
  let off = 0;
  while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
}

const USAGE = `usage: guix-p2p-substitute --query | --substitute

The guix-daemon substituter protocol (requests on stdin, replies on fd 4).
Normally run by guix-daemon through the guix-p2p Guix extension.`;

/** Runs the helper; resolves to the exit status. */
export async function helperMain(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  const mode = args.length === 1 && (args[0] === "--query" || args[0] === "--substitute")
    ? args[0]
    : undefined;
  if (!mode) {
    stderr(
      `guix-p2p-substitute: expected --query or --substitute, got ${
        JSON.stringify(args)
      }\n${USAGE}\n`,
    );
    return 2;
  }
  let fd4: ReplyChannel;
  let session: Session;
  try {
    fd4 = openReplyChannel();
    session = await openSession(Deno.env, stderr);
  } catch (e) {
    stderr(`guix-p2p-substitute: ${(e as Error).message}\n`);
    return 1;
  }
  const builtin = BuiltinSubstituter.fromEnv(Deno.env, mode);
  try {
    if (mode === "--query") await queryLoop(session, fd4, builtin);
    else await substituteLoop(session, fd4, builtin);
  } finally {
    await builtin?.close();
  }
  return 0;
}

async function queryLoop(
  session: Session,
  fd4: ReplyChannel,
  builtin: BuiltinSubstituter | undefined,
) {
  const { answerQuery } = await import("./query.ts");
  for await (const line of readLines(Deno.stdin.readable)) {
    let request: QueryRequest;
    try {
      request = parseQueryLine(line, session.storeDir);
    } catch (e) {
      // guix-daemon waits for a reply: give an empty one rather than hang or die.
      stderr(`guix-p2p-substitute: ${(e as Error).message}\n`);
      fd4.write("\n");
      continue;
    }
    if (request.kind === "empty") continue;
    fd4.write(await answer(answerQuery, request, line, session, builtin));
  }
}

async function answer(
  answerQuery: typeof import("./query.ts").answerQuery,
  request: Exclude<QueryRequest, { kind: "empty" }>,
  line: string,
  session: Session,
  builtin: BuiltinSubstituter | undefined,
): Promise<string> {
  if (session.routing === "builtin-first" && builtin) {
    let lines: string[];
    try {
      lines = await builtin.request(line);
    } catch (e) {
      stderr(`guix-p2p-substitute: built-in substituter failed: ${(e as Error).message}\n`);
      lines = [];
    }
    const answered = new Set(request.kind === "have" ? lines : infoPaths(lines).paths);
    const rest = request.paths.filter((p) => !answered.has(p));
    let extra = "\n";
    if (rest.length > 0) {
      try {
        extra = await answerQuery({ kind: request.kind, paths: rest }, session);
      } catch (e) {
        stderr(`guix-p2p-substitute: daemon unavailable: ${(e as Error).message}\n`);
      }
    }
    const kept = request.kind === "have" ? lines.filter((l) => request.paths.includes(l)) : lines;
    return kept.map((l) => `${l}\n`).join("") + extra;
  }
  try {
    return await answerQuery(request, session);
  } catch (e) {
    session.daemon.reset();
    if (builtin && e instanceof ControlConnectionError) {
      stderr(`guix-p2p-substitute: ${e.message}; asking Guix's built-in substituter\n`);
      try {
        return (await builtin.request(line)).map((l) => `${l}\n`).join("") + "\n";
      } catch (b) {
        stderr(`guix-p2p-substitute: built-in substituter failed: ${(b as Error).message}\n`);
      }
    } else stderr(`guix-p2p-substitute: ${(e as Error).message}\n`);
    return "\n";
  }
}

async function substituteLoop(
  session: Session,
  fd4: ReplyChannel,
  builtin: BuiltinSubstituter | undefined,
) {
  const [{ substituteItem }, { ProgressReporter }] = await Promise.all([
    import("./substitute.ts"),
    import("./traces.ts"),
  ]);
  const reporter = new ProgressReporter(stderr, {
    buildTrace: session.options.buildTrace,
    columns: session.options.terminalColumns,
  });
  for await (const line of readLines(Deno.stdin.readable)) {
    let request;
    try {
      request = parseSubstituteLine(line, session.storeDir);
    } catch (e) {
      stderr(`guix-p2p-substitute: ${(e as Error).message}\n`);
      fd4.write(statusFor(e instanceof RequestError ? e : new RequestError(String(e))));
      continue;
    }
    if (request.kind === "empty") continue;
    if (session.routing === "builtin-first" && builtin) {
      const status = await builtin.request(line).then((l) => l[0] ?? "", () => "");
      if (status.startsWith("success ")) {
        fd4.write(`${status}\n`);
        continue;
      }
      stderr(
        `guix-p2p-substitute: built-in substituter did not provide ${request.storePath}; trying guix-p2p\n`,
      );
      await removeIfPresent(request.dest);
    }
    try {
      const done = await substituteItem(request, session, reporter);
      await tellDaemon(session, request.storePath, done, () => fd4.write(done.line));
    } catch (e) {
      if (e instanceof ControlConnectionError && builtin && session.routing !== "builtin-first") {
        session.daemon.reset();
        stderr(`guix-p2p-substitute: ${e.message}; asking Guix's built-in substituter\n`);
        await removeIfPresent(request.dest);
        const status = await builtin.request(line).then((l) => l[0] ?? "", () => "");
        fd4.write(status ? `${status}\n` : failureLine("daemon-unavailable", e.message));
        continue;
      }
      stderr(`guix-p2p-substitute: ${(e as Error).message}\n`);
      fd4.write(statusFor(e));
    }
  }
}

/**
 * Tells the daemon about a substitution (for auto-seeding), then calls
 * `reply`. guix-daemon may kill this process as soon as it has read the
 * status line, so the message is written to the socket first — once written
 * the daemon receives it even if this process dies — but the daemon's reply
 * is awaited only after `reply` (a busy daemon does not hold the status
 * back). Bounded: it is informational, 2 s at most.
 */
async function tellDaemon(
  session: Session,
  storePath: string,
  done: { narinfo: { narHash: string; narSize: number }; source: SourceKind },
  reply: () => void,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const slow = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("slow daemon")), 2000);
  });
  let replied = false;
  try {
    const client = await Promise.race([session.daemon.client(), slow]);
    const sent = Promise.withResolvers<void>();
    const ack = client.substituted(
      {
        storePath,
        narHash: done.narinfo.narHash,
        narSize: done.narinfo.narSize,
        source: done.source,
      },
      { onSent: () => sent.resolve() },
    );
    ack.catch(() => {});
    await Promise.race([sent.promise, ack, slow]);
    replied = true;
    reply();
    await Promise.race([ack, slow]);
  } catch {
    session.daemon.reset();
  } finally {
    clearTimeout(timer);
    if (!replied) reply();
  }
}

async function removeIfPresent(path: string): Promise<void> {
  const { removeTree } = await import("../fs/remove_tree.ts");
  try {
    removeTree(path);
  } catch {
    // best effort: the substitution that follows refuses an existing DEST
  }
}
