/**
 * `guix-p2p doctor`: gathering facts about the machine and the daemon, and
 * the checks that judge them.
 *
 * @example
 * ```ts
 * import { exitStatus, formatCheck, gatherFacts, runChecks } from "./mod.ts";
 * const results = runChecks(await gatherFacts({ configFlag: undefined, overrides: [], env: Deno.env }));
 * for (const r of results) console.log(formatCheck(r));
 * Deno.exit(exitStatus(results));
 * ```
 * @module
 */
export * from "./facts.ts";
export * from "./checks.ts";
export * from "./checks_host.ts";
export * from "./checks_network.ts";
export * from "./deno_gather.ts";
