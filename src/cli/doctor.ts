/**
 * `guix-p2p doctor [--json]`: checks that this machine can substitute through
 * guix-p2p and share with its neighbours — one line per check with ✓ (fine),
 * ! (worth fixing), ✗ (stops substitution through guix-p2p) or ? (cannot
 * tell from here), and the fix. Exits 1 when a check fails.
 *
 * @example
 * ```sh
 * guix-p2p doctor
 * sudo guix-p2p doctor --json   # as root it can read guix-daemon's environment
 * ```
 * @module
 */
import { CONFIG_FLAG_NAMES, overridesFromFlags } from "../config/mod.ts";
import { exitStatus, formatCheck, gatherFacts, runChecks } from "./doctor/mod.ts";
import { parseFlags } from "../std/cli.ts";
import type { CliIo, Command } from "./command.ts";

const USAGE = `usage: guix-p2p doctor [--json] [--config FILE] [--socket PATH]

Checks the configuration, the daemon and its control socket, the ACL, the
substitute servers (and this machine's clock against theirs), the listen
port, peers and the DHT, the shareable address, guix-daemon's environment
(the extension and the routing variables: readable as root) and the cache
directory's free space. One line per check:
  ✓ fine   ! worth fixing   ✗ stops substitution through guix-p2p   ? unknown
followed by the fix. Exit status 1 when a check shows ✗.
Troubleshooting by doctor output: docs/sharing.md.`;

/** `guix-p2p doctor`. */
export const doctorCommand: Command = {
  name: "doctor",
  summary: "check that substitution and sharing work, and say what to fix",
  usage: USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    if (args.includes("--help") || args.includes("-h")) {
      io.out(USAGE);
      return 0;
    }
    const { flags } = parseFlags(args, {
      boolean: ["json"],
      string: ["config", ...CONFIG_FLAG_NAMES],
      collect: ["set"],
      positionals: false,
    });
    const facts = await gatherFacts({
      configFlag: flags.config,
      overrides: overridesFromFlags(flags as Record<string, string | string[] | undefined>),
      env: io.env,
    });
    const results = runChecks(facts);
    const status = exitStatus(results);
    if (flags.json) io.out(JSON.stringify({ ok: status === 0, checks: results }, null, 2));
    else for (const r of results) io.out(formatCheck(r));
    return status;
  },
};
