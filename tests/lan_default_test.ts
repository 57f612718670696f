/**
 * The LAN quick start, end to end (docs/sharing.md): two machines with the
 * default settings — mDNS on, `auto_seed = "all"`, `policy = "p2p-first"`,
 * no bootstrap peer — only their own store, ACL and substitute server set,
 * and each listening on a port of its own (they share one host here).
 * Machine A substitutes a closure over HTTP through the guix-daemon emulator
 * and the real helper; machine B then substitutes the same closure and gets
 * every NAR from A: no `seed` command anywhere, no NAR over HTTP for B.
 */
import { assertEquals, assertGreater } from "@std/assert";
import { type DaemonProcess, helperAgent, runCli, startDaemon } from "./support/daemon_proc.ts";
import {
  type FixtureItem,
  makeItem,
  makeKey,
  publishItem,
  randomHashPart,
  writeGuixConfig,
} from "./support/guix_cache.ts";
import { startFileServer } from "./support/http_server.ts";
import { hexEncode } from "../src/encoding/hex.ts";
import { parseNarHash } from "../src/hash/nar_hash.ts";
import { randomBytes } from "./support/random.ts";
import { assertRestored, forceRemove } from "./support/tree_check.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

async function json<V>(d: DaemonProcess, args: string[]): Promise<V> {
  const out = await runCli([...args, "--json", "--config", d.configPath]);
  if (out.code !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout) as V;
}

/** Substitutes `closure` (dependencies first) as guix-daemon does; returns the helper's log. */
async function substituteClosure(
  d: DaemonProcess,
  store: string,
  closure: FixtureItem[],
): Promise<string[]> {
  const paths = closure.map((i) => i.storePath);
  {
    await using q = helperAgent("query", d, store);
    assertEquals((await q.have(paths)).sort(), [...paths].sort(), d.log.join("\n"));
    const infos = await q.info(paths);
    assertEquals(infos.length, paths.length);
  }
  await using s = helperAgent("substitute", d, store, {
    "untrusted-print-extended-build-trace": "1",
  });
  for (const item of closure) {
    const out = await s.substitute(item.storePath, item.storePath, 120_000);
    assertEquals(
      out.status,
      `success ${item.narHash} ${item.narSize}`,
      [...s.log, "--- daemon log:", ...d.log.slice(-80)].join("\n"),
    );
    await assertRestored(item.storePath, item.narHash);
  }
  return [...s.log];
}

Deno.test(
  "default settings on a LAN: B gets from A the closure A substituted over HTTP, with no seed command",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-lan-" });
    const servers: { close(): Promise<void> }[] = [];
    const daemons: DaemonProcess[] = [];
    try {
      const key = makeKey();
      await writeGuixConfig(`${root}/etc-guix`, key);
      // One closure (top → app → lib), as each machine's store names it.
      const trees = ["lib", "app", "top"];
      for (const t of trees) {
        await Deno.mkdir(`${root}/src/${t}/share`, { recursive: true });
        await Deno.writeFile(`${root}/src/${t}/share/data`, randomBytes(300_000));
        await Deno.writeTextFile(`${root}/src/${t}/README`, `${t}\n`.repeat(1000));
      }
      const hashParts = trees.map(() => randomHashPart());
      const closureFor = async (store: string) => {
        const out: FixtureItem[] = [];
        for (const [i, t] of trees.entries()) {
          out.push(
            await makeItem(`${root}/src/${t}`, {
              storeDir: store,
              name: `${t}-1.0`,
              hashPart: hashParts[i]!,
              references: out.map((x) => x.baseName),
            }),
          );
        }
        return out;
      };
      const machine = async (name: string, serveNars: boolean) => {
        const store = `${root}/${name}/store`;
        await Deno.mkdir(store, { recursive: true });
        const closure = await closureFor(store);
        for (const item of closure) {
          await publishItem(`${root}/cache-${name}`, item, {
            key: key.key,
            compressions: ["zstd"],
          });
        }
        const server = await startFileServer({ root: `${root}/cache-${name}` });
        servers.push(server);
        if (!serveNars) server.faults.push({ match: /\/nar\//, action: "status", status: 404 });
        // Defaults, except what is this machine's own (store, ACL, server), and a port of its
        // own instead of 6881 since both share this host. startDaemon turns mDNS off and the
        // dashboard and gateway (fixed ports) off: mDNS is turned back on, as by default.
        const daemon = await startDaemon(`${root}/${name}`, {
          store_dir: store,
          acl_path: `${root}/etc-guix/acl`,
          substitute_urls: [server.url],
          listen: ["/ip4/0.0.0.0/tcp/0"],
          mdns: true,
          log_level: "debug",
        });
        daemons.push(daemon);
        const [, peerId] = /P2P node (\S+)/.exec(await daemon.waitForLog(/P2P node \S+/))!;
        return { store, closure, server, daemon, peerId: peerId! };
      };
      const a = await machine("a", true);
      const b = await machine("b", false);
      // They find each other on the local network (mDNS) and share a DHT.
      await b.daemon.waitForLog(new RegExp(`peer ${a.peerId} connected`), 30_000);
      await b.daemon.waitForLog(/DHT routing table: [1-9]\d* peer/, 30_000);
      await a.daemon.waitForLog(/DHT routing table: [1-9]\d* peer/, 30_000);

      // A: an ordinary substitution over HTTP (nobody has it yet).
      const logA = await substituteClosure(a.daemon, a.store, a.closure);
      assertEquals(logA.filter((l) => l.includes(" p2p://")), [], "A had no peer to get it from");
      // A seeds what it substituted, from its store, and announces it.
      for (const item of a.closure) {
        await a.daemon.waitForLog(
          new RegExp(`seeding ${item.storePath.replaceAll(".", "\\.")} \\(auto\\)`),
          60_000,
        );
      }
      const seeds = await json<{ storePath: string; kind: string; origin: string }[]>(
        a.daemon,
        ["seeds"],
      );
      assertEquals(
        seeds.map((s) => [s.storePath, s.kind, s.origin]).sort(),
        a.closure.map((i) => [i.storePath, "store", "auto"]).sort(),
      );
      for (const item of a.closure) {
        const hex = hexEncode(parseNarHash(item.narHash)).slice(0, 16);
        await a.daemon.waitForLog(new RegExp(`announced ${hex}…`), 60_000);
      }

      // B: the same closure, every NAR from A.
      const logB = await substituteClosure(b.daemon, b.store, b.closure);
      assertEquals(
        b.server.log.filter((r) => r.path.includes("/nar/") && r.status === 200).length,
        0,
        "no NAR over HTTP for B",
      );
      const fromPeers = logB.filter((l) =>
        l.startsWith("@ download-started") && l.includes(" p2p://")
      );
      assertEquals(fromPeers.length, b.closure.length, logB.join("\n"));
      const peers = await json<{ peerId: string; bytesDown: number }[]>(b.daemon, ["peers"]);
      assertGreater(peers.find((p) => p.peerId === a.peerId)?.bytesDown ?? 0, 0);
    } finally {
      for (const d of daemons) await d.stop().catch(() => {});
      for (const s of servers) await s.close().catch(() => {});
      await forceRemove(root);
    }
  },
);
