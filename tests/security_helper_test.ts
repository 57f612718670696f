/**
 * The root helper cannot be kept busy forever by a compromised daemon (issue
 * 10 item 7a): a daemon (here a hostile control server speaking the real
 * protocol to the real helper) that streams endless garbage is cut off once
 * it has sent NarSize bytes, and one that sends only growing progress counts
 * is stopped by the per-NAR deadline (helper_deadline_grace + NarSize /
 * helper_min_rate). Keep-alives that report nothing new do not reset the
 * stall timer (src/control/socket_test.ts).
 */
import { assertEquals, assertMatch } from "@std/assert";
import { stringify } from "@std/toml";
import { listenControlSocket } from "../src/control/deno_socket.ts";
import { type ControlHandler, ControlServer } from "../src/control/server.ts";
import { helperAgent } from "./support/daemon_proc.ts";
import { substituteWorld } from "./support/substitute_world.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

type Mode = "garbage-forever" | "progress-forever";

async function evilDaemon(path: string, narinfo: string, mode: Mode) {
  let sent = 0;
  const handler: ControlHandler = {
    lookup: (req) =>
      Promise.resolve(req.storePaths.map((p) => ({
        kind: "found" as const,
        storePath: p,
        narinfo,
        cacheUrl: "http://evil",
      }))),
    async fetch(_req, sink, ctx) {
      await sink.source({ source: "http", url: "http://evil/nar", offset: 0, size: null });
      const junk = new Uint8Array(64 * 1024).fill(0x41);
      for (let i = 1; !ctx.signal.aborted; i++) {
        if (mode === "garbage-forever") {
          await sink.data(junk);
          sent += junk.length;
        } else {
          await sink.progress(i * 1000, null);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      return 0;
    },
    substituted: () => Promise.resolve(),
    report: () => Promise.resolve(),
    admin: () => Promise.resolve(null),
  };
  const server = new ControlServer(await listenControlSocket(path), handler, {
    mapError: (e) => ({ code: "internal", message: String(e) }),
  });
  server.start();
  return { server, sent: () => sent };
}

async function run(mode: Mode, settings: Record<string, unknown>) {
  const w = await substituteWorld("guix-p2p-helper-");
  try {
    const item = await w.item("victim", { "blob": 200_000 });
    const narinfo = await w.publish("c", item, { compressions: ["none"] });
    const socket = `${w.dir}/evil.sock`;
    const evil = await evilDaemon(socket, narinfo, mode);
    const configPath = `${w.dir}/helper.toml`;
    await Deno.writeTextFile(
      configPath,
      stringify({ store_dir: w.store, acl_path: w.acl, socket_path: socket, ...settings }),
    );
    try {
      await using s = helperAgent("substitute", { configPath }, w.store);
      const t0 = performance.now();
      const out = await s.substitute(item.storePath, item.storePath, 30_000);
      return {
        out,
        ms: performance.now() - t0,
        sent: evil.sent(),
        narSize: item.narSize,
        log: s.log.join("\n"),
      };
    } finally {
      await evil.server.stop();
    }
  } finally {
    await w.close();
  }
}

Deno.test("a daemon streaming endless garbage is cut off after NarSize bytes", T, async () => {
  const r = await run("garbage-forever", {});
  assertEquals(r.out.status.startsWith("success"), false, r.out.status);
  assertEquals(r.out.died ?? false, false);
  // What the helper took is bounded by NarSize (plus what was in flight).
  assertEquals(r.sent < r.narSize + 16 * 1024 * 1024, true, `sent ${r.sent}`);
  assertMatch(r.log, /more than \d+ bytes/);
});

Deno.test(
  "a daemon sending only growing progress counts is stopped by the deadline",
  T,
  async () => {
    const r = await run("progress-forever", {
      helper_deadline_grace: "2s",
      helper_min_rate: "100MB/s",
    });
    assertEquals(r.out.status.startsWith("success"), false, r.out.status);
    assertEquals(r.ms < 20_000, true, `${r.ms} ms`);
    assertMatch(r.log, /not received within \d+ s/);
  },
);
