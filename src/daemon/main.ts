/**
 * `guix-p2p --daemon`: loads the configuration, starts the daemon and stops
 * it cleanly on SIGTERM or SIGINT (within a second: the process exits
 * explicitly, see ../shared/docs/platform-notes.md §6.4).
 *
 * @example
 * ```sh
 * guix-p2p --daemon --config /etc/guix-p2p/config.toml
 * ```
 * @module
 */
import type { CliIo } from "../std/io.ts";
import { CONFIG_FLAG_NAMES, loadConfig, overridesFromFlags } from "../config/mod.ts";
import { parseFlags } from "../std/cli.ts";
import { EventBus } from "../events/bus.ts";
import { P2pService } from "../p2p/service.ts";
import { Daemon } from "./daemon.ts";
import type { DaemonEvents } from "./events.ts";
import { attachLogger } from "./log.ts";
import { p2pAdmin } from "./p2p_admin.ts";

const USAGE = `usage: guix-p2p --daemon [--config FILE] [--set KEY=VALUE]... [flags]

Runs the guix-p2p daemon (meant for an unprivileged system user). Flags:
  --config FILE         configuration file (default: $GUIX_P2P_CONFIG, then
                        $XDG_CONFIG_HOME/guix-p2p/config.toml)
  --set KEY=VALUE       override any configuration key (TOML value)
  --store-dir, --cache-dir, --socket, --acl, --log-level, --policy,
  --substitute-urls, --listen, --bootstrap, --min-providers, --auto-seed,
  --gateway-listen, --dashboard-listen
                        shortcuts for the keys of the same names
Stops on SIGTERM or SIGINT.`;

/** How long a signal-driven stop may take before the process exits anyway. */
const STOP_BUDGET_MS = 800;

/** Runs the daemon until a signal; resolves to the exit status. */
export async function daemonMain(args: string[], io: CliIo): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    io.out(USAGE);
    return 0;
  }
  const { flags, positionals } = parseFlags(args, {
    string: ["config", ...CONFIG_FLAG_NAMES],
    collect: ["set"],
    positionals: false,
  });
  void positionals;
  const { config, file, warnings } = await loadConfig({
    configPath: flags.config,
    overrides: overridesFromFlags(flags as Record<string, string | string[] | undefined>),
    env: io.env,
  });
  const bus = new EventBus<DaemonEvents>();
  attachLogger(bus, config.log_level, (line) => io.err(line));
  // Defence in depth: a rejection nobody handled (a bug; never what a peer sends) is logged,
  // not allowed to end the daemon and every transfer with it.
  const onUnhandled = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    const reason = e.reason instanceof Error
      ? e.reason.stack ?? e.reason.message
      : String(e.reason);
    bus.emit("daemon:warning", { message: `unhandled rejection (a bug): ${reason}` });
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  const p2p = new P2pService(config, {
    emit: (type, payload) => bus.emit(type, payload as DaemonEvents[typeof type]),
  });
  const daemon = new Daemon(config, {
    bus,
    p2p: p2p.sources,
    peers: p2p.index,
    admin: p2pAdmin(p2p),
    parts: [p2p],
    onSubstituted: (info) => p2p.seeding.substituted(info),
    local: p2p.local,
    peerNarinfos: p2p.narinfos,
    seeded: (hex) => p2p.seeds.isSeeded(hex),
  });
  p2p.narinfos.serveFrom(daemon.held);
  // Records events from here on; serves once the daemon runs. Loaded only when enabled: the
  // dashboard's pages and server are ~1 MB of RSS a daemon without one need not hold.
  const dashboard = config.dashboard_listen === ""
    ? undefined
    : await import("./dashboard.ts").then(({ daemonDashboard, p2pReports }) =>
      daemonDashboard(config, bus, { daemon, p2p: p2pReports(p2p) })
    );
  if (file) io.err(`guix-p2p: info: configuration from ${file}`);
  for (const w of warnings) io.err(`guix-p2p: warn: ${w}`);
  const stopped = Promise.withResolvers<string>();
  const onSignal = (name: Deno.Signal) => () => stopped.resolve(name);
  const handlers = (["SIGTERM", "SIGINT"] as const).map((s) => [s, onSignal(s)] as const);
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);
  try {
    await daemon.start();
  } catch (e) {
    for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
    const m = /listen EADDRINUSE[^\n]*?(\S+:\d+)/.exec((e as Error).message);
    if (!m) throw e;
    io.err(
      `guix-p2p: cannot listen on ${
        m[1]
      }: the port is in use (another program, or another guix-p2p daemon); stop it (\`ss -ltnp 'sport = :${
        m[1]!.split(":").at(-1)
      }'\` names it) or change listen`,
    );
    return 1;
  }
  await dashboard?.start();
  const signal = await stopped.promise;
  for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
  // The process exits right after (../shared/docs/platform-notes.md §6.4): a stop
  // that hangs is cut short, and says so.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stopping = (async () => {
    await dashboard?.stop();
    await daemon.stop(`received ${signal}`);
    return true;
  })();
  const complete = await Promise.race([
    stopping,
    new Promise<false>((r) => timer = setTimeout(() => r(false), STOP_BUDGET_MS)),
  ]);
  clearTimeout(timer);
  if (!complete) {
    io.err(
      `guix-p2p: warning: the daemon did not stop within ${STOP_BUDGET_MS} ms; exiting anyway`,
    );
  }
  return 0;
}
