/**
 * One substitution on a swarm node for the P2P benchmarks: through the
 * guix-daemon emulator and the real helper, with the helper's peak RSS and CPU
 * read just before it exits, and optionally its CPU profile.
 *
 * @example
 * ```ts
 * import { substitute } from "./_substitute.ts";
 * declare const node: import("../../tests/support/swarm.ts").SwarmNode;
 * const { status, ms } = await substitute(node, "/gnu/store/…-big-1.0");
 * ```
 * @module
 */
import { helperAgent } from "../../tests/support/daemon_proc.ts";
import type { SwarmNode } from "../../tests/support/swarm.ts";
import { procStats } from "../measure.ts";
import { startProfile, summarize } from "./_profile.ts";

/** The outcome of one substitution. */
export interface Substitution {
  status: string;
  /** From sending `substitute` to reading the status (fetch, verify, restore, rename). */
  ms: number;
  /** The helper's peak RSS (KiB) and CPU seconds, read just before it exits. */
  helperHwmKiB: number;
  helperCpu: number;
  /** With `profile`: the helper's CPU profile summary. */
  helperProfile?: string;
}

/** Substitutes `storePath` on `node` through the guix-daemon emulator and the real helper. */
export async function substitute(
  node: SwarmNode,
  storePath: string,
  options: { timeoutMs?: number; profile?: boolean } = {},
): Promise<Substitution> {
  await using s = helperAgent("substitute", node.daemon, node.store);
  const profile = options.profile ? await startProfile(s.child.pid, { waitMs: 10_000 }) : undefined;
  const t0 = performance.now();
  const out = await s.substitute(storePath, storePath, options.timeoutMs ?? 600_000);
  const ms = performance.now() - t0;
  const pid = s.child.pid;
  let helper = { hwmKiB: 0, cpu: 0 };
  try {
    helper = procStats(pid);
  } catch {
    // it has exited already
  }
  return {
    status: out.status,
    ms,
    helperHwmKiB: helper.hwmKiB,
    helperCpu: helper.cpu,
    ...(profile ? { helperProfile: summarize(await profile.stop(), 30) } : {}),
  };
}
