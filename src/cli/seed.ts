/**
 * `guix-p2p seed`: share store items with peers, read from the store itself
 * (never copied) — single items, whole closures, profiles, or the whole
 * store. Many items are a job in the daemon, indexed at `seed_index_rate`;
 * this command follows its progress (a progress bar on a terminal) and
 * prints a summary. Interrupting it leaves the job running in the daemon.
 *
 * @example
 * ```sh
 * guix-p2p seed /gnu/store/…-hello-2.12.2
 * guix-p2p seed --profile ~/.guix-profile --profile /run/current-system/profile
 * guix-p2p seed --closure ./result
 * guix-p2p seed --store
 * ```
 * @module
 */
import { CONFIG_FLAG_NAMES } from "../config/mod.ts";
import type { ControlClient } from "../control/client.ts";
import { profileItem } from "../p2p/store/catalog.ts";
import { parseFlags, UsageError } from "../std/cli.ts";
import { connectDaemon, humanBytes } from "./_daemon.ts";
import { type JobProgress, progressLine, summaryLine } from "./_progress.ts";
import type { CliIo, Command } from "./command.ts";

const USAGE = `usage: guix-p2p seed PATH... [--json]
       guix-p2p seed --profile PROFILE... | --closure PATH... | --store [--json] [--no-wait]

Seed store items: peers can then download them from this machine. Nothing is
copied: the daemon reads each item from the store once to index it (at most
seed_index_rate bytes per second) and serves it from there.

  PATH...            these store items
  --profile PROFILE  the closure of a profile (~/.guix-profile,
                     /run/current-system/profile, ...): its current generation
                     and everything it refers to (repeatable)
  --closure PATH     a store item (or a symlink to one, e.g. ./result) and
                     everything it refers to (repeatable)
  --store            every valid item of the store (guix gc --list-live with
                     guix-daemon; every <hash>-<name> entry of a plain directory)
  --no-wait          start the job and return (guix-p2p seeds shows the result)
  --json             print the daemon's answer (the jobs when they end)
Options: --config FILE, --socket PATH. Exit status 1 when an item could not be
seeded. Interrupting the command does not stop the daemon's job.`;

type Obj = Record<string, unknown>;

/** `guix-p2p seed`. */
export const seedCommand: Command = {
  name: "seed",
  summary: "seed store items, closures, profiles or the store (never copied)",
  usage: USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    if (args.includes("--help") || args.includes("-h")) {
      io.out(USAGE);
      return 0;
    }
    const { flags, positionals } = parseFlags(args, {
      boolean: ["json", "store", "no-wait"],
      string: ["config", ...CONFIG_FLAG_NAMES],
      collect: ["set", "profile", "closure"],
    });
    const bulk = flags.profile.length + flags.closure.length + (flags.store ? 1 : 0);
    if (positionals.length === 0 && bulk === 0) {
      throw new UsageError("seed needs store items, --profile, --closure or --store");
    }
    const { client, located } = await connectDaemon(flags, io);
    using _ = client;
    const { config } = located;
    let status = 0;
    if (positionals.length > 0) {
      const results = await client.admin("seed", positionals) as Obj[];
      if (flags.json) io.out(JSON.stringify(results, null, 2));
      for (const r of results) {
        if (r.ok) {
          if (!flags.json) {
            io.out(`seeding ${r.storePath} (${r.narHash}, ${humanBytes(r.narSize as number)})`);
          }
        } else {
          io.err(`guix-p2p: cannot seed ${r.path}: ${r.error}`);
          status = 1;
        }
      }
    }
    if (bulk === 0) return status;
    // Profiles and closures are resolved here, with the user's permissions (the
    // daemon may not see ~/.guix-profile); the daemon gets store items.
    const dirs = [config.store_dir, config.nix_store_dir];
    const roots = new Map<string, string[]>();
    for (const p of [...flags.profile, ...flags.closure]) {
      let item: string;
      try {
        item = profileItem(await Deno.realPath(p), dirs, p);
      } catch (e) {
        io.err(`guix-p2p: cannot seed ${p}: ${(e as Error).message}`);
        status = 1;
        continue;
      }
      const dir = dirs.find((d) => item.startsWith(d + "/"))!;
      roots.set(dir, [...(roots.get(dir) ?? []), item]);
    }
    const started: JobProgress[] = [];
    for (const items of roots.values()) {
      started.push(await client.admin("seed-closure", items) as JobProgress);
    }
    if (flags.store) started.push(await client.admin("seed-store", []) as JobProgress);
    if (flags["no-wait"]) {
      if (flags.json) io.out(JSON.stringify(started, null, 2));
      else {for (const j of started) {
          io.out(`started: ${j.what} (guix-p2p seeds lists what is seeded)`);
        }}
      return status;
    }
    const ended = await follow(
      client,
      started.map((j) => (j as JobProgress & { id: number }).id),
      io,
    );
    if (flags.json) io.out(JSON.stringify(ended, null, 2));
    for (const j of ended) {
      if (!flags.json) io.out(summaryLine(j));
      for (const e of (j as JobProgress & { errors?: string[] }).errors ?? []) {
        io.err(`guix-p2p: ${e}`);
      }
      if (j.failed > 0 || j.state === "failed") status = 1;
    }
    return status;
  },
};

/** Polls the daemon's jobs until `ids` have all ended, drawing progress on a terminal. */
async function follow(
  client: ControlClient,
  ids: number[],
  io: CliIo,
): Promise<(JobProgress & { id: number })[]> {
  const columns = Number(io.env.get("COLUMNS")) || 100;
  for (;;) {
    const jobs = (await client.admin("seed-jobs", []) as (JobProgress & {
      id: number;
      finishedAt: number | null;
    })[]).filter((j) => ids.includes(j.id));
    const running = jobs.filter((j) => j.finishedAt === null);
    if (running.length === 0 || jobs.length < ids.length) {
      io.progress?.("");
      return jobs.sort((a, b) => a.id - b.id);
    }
    io.progress?.(progressLine(running[0]!, columns - 1));
    await new Promise((r) => setTimeout(r, 200));
  }
}
