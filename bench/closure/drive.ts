/**
 * Substitutes a whole closure the way guix-daemon does for `guix build` or
 * `guix system reconfigure`: one `--query` process asks `have` and then
 * `info` for every path of the closure; then substitution goals run with at
 * most `jobs` at once, a goal starting only when every item it refers to is
 * valid; a goal borrows an idle `--substitute` process or spawns a new one
 * (so at most `jobs` of them), and gives it back when it ends
 * (../shared/docs/guix-substitute-protocol.md §1.1, §3.5).
 *
 * @example
 * ```ts
 * import { substituteClosure } from "./drive.ts";
 * const r = await substituteClosure(spawn, paths, refs, { jobs: 4 });
 * console.log(r.queryMs, r.totalMs);
 * ```
 * @module
 */
import type { SubstituterAgent } from "../../tests/support/guix_daemon.ts";

/** What one closure run took. */
export interface ClosureRun {
  /** `have` + `info` for the whole closure. */
  queryMs: number;
  /** From the `have` request to the last status line. */
  totalMs: number;
  /** Per-item substitution times (request to status), in item order. */
  itemMs: number[];
  /** When each item's substitution started, from the `have` request. */
  itemStartMs: number[];
  /** Substitute processes spawned. */
  agents: number;
  /** PIDs of every helper process (query first), for CPU accounting. */
  pids: number[];
}

/**
 * Runs the closure `paths` (index order is a valid order: `refs[i]` only
 * names smaller indexes). `spawn` starts a helper in the given mode.
 * Rejects on the first failed status.
 */
export async function substituteClosure(
  spawn: (mode: "query" | "substitute") => SubstituterAgent,
  paths: string[],
  refs: number[][],
  options: {
    jobs: number;
    timeoutMs?: number;
    onAgentExit?: (pid: number) => Promise<void>;
    /** Where each item is restored (default: the store path itself; guix-daemon may use `<path>.tmp`). */
    dest?: (path: string) => string;
  },
): Promise<ClosureRun> {
  const timeoutMs = options.timeoutMs ?? 600_000;
  const t0 = performance.now();
  const query = spawn("query");
  const agents: SubstituterAgent[] = [query];
  try {
    const have = await query.have(paths, timeoutMs);
    if (have.length !== paths.length) {
      throw new Error(`have: ${have.length} of ${paths.length} paths substitutable`);
    }
    const info = await query.info(paths, timeoutMs);
    if (info.length !== paths.length) {
      throw new Error(`info: ${info.length} of ${paths.length} records`);
    }
    const queryMs = performance.now() - t0;
    const itemMs = new Array<number>(paths.length).fill(0);
    const itemStartMs = new Array<number>(paths.length).fill(0);
    const done = new Array<boolean>(paths.length).fill(false);
    const started = new Array<boolean>(paths.length).fill(false);
    const idle: SubstituterAgent[] = [];
    let running = 0;
    let finished = 0;
    const all = Promise.withResolvers<void>();
    const ready = (i: number) => !started[i] && refs[i]!.every((j) => done[j]);
    const launch = () => {
      for (let i = 0; i < paths.length && running < options.jobs; i++) {
        if (!ready(i)) continue;
        started[i] = true;
        running++;
        let agent = idle.pop();
        if (!agent) {
          agent = spawn("substitute");
          agents.push(agent);
        }
        const a = agent;
        const s0 = performance.now();
        itemStartMs[i] = s0 - t0;
        a.substitute(paths[i]!, options.dest?.(paths[i]!) ?? paths[i]!, timeoutMs).then((out) => {
          if (!out.status.startsWith("success ")) {
            throw new Error(
              `${paths[i]}: status "${out.status}"; log:\n${a.log.slice(-20).join("\n")}`,
            );
          }
          itemMs[i] = performance.now() - s0;
          done[i] = true;
          running--;
          finished++;
          idle.push(a);
          if (finished === paths.length) all.resolve();
          else launch();
        }).catch((e) => all.reject(e));
      }
    };
    launch();
    await all.promise;
    return {
      queryMs,
      totalMs: performance.now() - t0,
      itemMs,
      itemStartMs,
      agents: agents.length - 1,
      pids: agents.map((a) => a.child.pid),
    };
  } finally {
    for (const a of agents) {
      await options.onAgentExit?.(a.child.pid).catch(() => {});
      await a.kill();
    }
  }
}
