import { assertEquals, assertRejects } from "@std/assert";
import { ControlClient } from "./client.ts";
import { connectControlSocket, listenControlSocket } from "./deno_socket.ts";
import { ControlConnectionError, ControlRemoteError } from "./errors.ts";
import { type ControlHandler, ControlServer } from "./server.ts";

class NotFound extends Error {}

const handler: ControlHandler = {
  lookup(req) {
    return Promise.resolve(
      req.storePaths.map((p) =>
        p.endsWith("-yes")
          ? {
            kind: "found" as const,
            storePath: p,
            narinfo: `StorePath: ${p}\n`,
            cacheUrl: "http://c",
          }
          : { kind: "missing" as const, storePath: p, reason: "not on any server" }
      ),
    );
  },
  async fetch(req, sink) {
    if (req.narSize === 0) throw new NotFound(`no source for ${req.storePath}`);
    await sink.source({ source: "http", url: "http://c/nar", offset: 0, size: null });
    let sent = 0;
    while (sent < req.narSize) {
      const n = Math.min(300_000, req.narSize - sent);
      await sink.data(new Uint8Array(n).fill(sent % 251));
      sent += n;
      await sink.progress(sent, req.narSize);
    }
    return sent;
  },
  substituted: () => Promise.resolve(),
  report: () => Promise.resolve(),
  admin: (command, args) => Promise.resolve({ command, args }),
};

const mapError = (e: unknown) =>
  e instanceof NotFound
    ? { code: "not-found" as const, message: e.message }
    : { code: "internal" as const, message: String(e) };

async function withServer(fn: (path: string, server: ControlServer) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/control.sock`;
  const listener = await listenControlSocket(path);
  const server = new ControlServer(listener, handler, { mapError, maxClients: 2 });
  server.start();
  try {
    await fn(path, server);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("client and server talk over a real Unix socket with mode 0660", async () => {
  await withServer(async (path) => {
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o660);
    using client = new ControlClient(await connectControlSocket(path));
    const items = await client.lookup(["/s/a-yes", "/s/b-no"]);
    assertEquals(items.map((i) => i.kind), ["found", "missing"]);
    // A 1 MB NAR arrives in order, split in frames, then the connection is reusable.
    let received = 0;
    const events: string[] = [];
    for await (
      const ev of client.fetch({ storePath: "/s/a-yes", narHash: "sha256:x", narSize: 1_000_000 })
    ) {
      if (ev.kind === "data") {
        received += ev.bytes.length;
      } else events.push(ev.kind);
    }
    assertEquals(received, 1_000_000);
    assertEquals(events[0], "source");
    assertEquals(events.at(-1), "done");
    const err = await assertRejects(
      async () => {
        for await (
          const _ of client.fetch({ storePath: "/s/z", narHash: "sha256:x", narSize: 0 })
        ) { /* */ }
      },
      ControlRemoteError,
    );
    assertEquals(err.code, "not-found");
    assertEquals(await client.admin("status", ["x"]), { command: "status", args: ["x"] });
  });
});

Deno.test("a stale socket file is replaced; a live one is refused", async () => {
  await withServer(async (path) => {
    await assertRejects(() => listenControlSocket(path), Error, "already listening");
  });
  const dir = await Deno.makeTempDir();
  const path = `${dir}/s`;
  await Deno.writeTextFile(path, "not a socket");
  await assertRejects(() => listenControlSocket(path), Error, "not a socket");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("connecting to an absent daemon fails with a clear error", async () => {
  await assertRejects(
    () => connectControlSocket("/nonexistent/control.sock"),
    ControlConnectionError,
    "cannot connect to the daemon at /nonexistent/control.sock",
  );
});

Deno.test("the connection cap answers busy instead of hanging", async () => {
  await withServer(async (path, server) => {
    const a = await connectControlSocket(path);
    const b = await connectControlSocket(path);
    // Wait until the server has registered both connections (bounded).
    for (let i = 0; server.connectionCount < 2 && i < 200; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const c = new ControlClient(await connectControlSocket(path), { stallTimeoutMs: 5000 });
    const err = await assertRejects(() => c.lookup(["/x"]), ControlRemoteError);
    assertEquals(err.code, "busy");
    a.close();
    b.close();
    c.close();
  });
});

Deno.test("a fetch that gets only keep-alives fails after the stall timeout (they do not reset it)", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/control.sock`;
  const stalled: ControlHandler = {
    ...handler,
    async fetch(_req, sink, ctx) {
      await sink.source({ source: "http", url: "http://c/nar", offset: 0, size: null });
      await sink.data(new Uint8Array(10));
      // Then only keep-alives (the server's, every 50 ms, with the same count).
      await new Promise((_, reject) => ctx.signal.addEventListener("abort", reject));
      return 10;
    },
  };
  const server = new ControlServer(await listenControlSocket(path), stalled, {
    mapError,
    keepaliveMs: 50,
  });
  server.start();
  try {
    using client = new ControlClient(await connectControlSocket(path), { stallTimeoutMs: 500 });
    const t0 = Date.now();
    const err = await assertRejects(async () => {
      for await (
        const _ of client.fetch({ storePath: "/s/a-yes", narHash: "sha256:x", narSize: 100 }, {
          signal: AbortSignal.timeout(10_000),
        })
      ) { /* */ }
    }, ControlConnectionError);
    assertEquals(/no NAR data for 0.5 s/.test(err.message), true, err.message);
    assertEquals(Date.now() - t0 < 5000, true);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a client busy with what it got (a file it reads itself) is not a daemon stall", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/control.sock`;
  const quick: ControlHandler = {
    ...handler,
    async fetch(_req, sink) {
      await sink.file!({ source: "p2p", url: "p2p://x", path: "/cache/blocks/x/data" });
      await sink.available!(100);
      return 100;
    },
  };
  const server = new ControlServer(await listenControlSocket(path), quick, { mapError });
  server.start();
  try {
    using client = new ControlClient(await connectControlSocket(path), { stallTimeoutMs: 300 });
    const kinds: string[] = [];
    for await (
      const ev of client.fetch(
        { storePath: "/s/a-yes", narHash: "sha256:x", narSize: 100, files: true },
        { signal: AbortSignal.timeout(10_000) },
      )
    ) {
      kinds.push(ev.kind);
      // The consumer spends longer than the stall window on what it received (restoring a
      // large file): the daemon said everything at once and is not silent.
      if (ev.kind === "available") await new Promise((r) => setTimeout(r, 700));
    }
    assertEquals(kinds.filter((k) => k !== "progress"), ["file", "available", "done"]);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fetch by store path: the narinfo first, then the NAR it names; a missing one ends there", async () => {
  const path = `/gnu/store/${"0a0b0c0d0f0g0h0i0j0k0l0m0n0p0q0r"}-hello`;
  const narHash = `sha256:${"1".repeat(52)}`;
  const narinfo =
    `StorePath: ${path}\nURL: nar/hello\nCompression: none\nNarHash: ${narHash}\nNarSize: 70000\nReferences: \n`;
  const asked: { narHash: string; narSize: number }[] = [];
  const byPath: ControlHandler = {
    ...handler,
    lookup: (req) =>
      Promise.resolve(
        req.storePaths.map((p) =>
          p === path
            ? { kind: "found" as const, storePath: p, narinfo, cacheUrl: "http://c" }
            : { kind: "missing" as const, storePath: p, reason: "not on any server" }
        ),
      ),
    fetch: (req, sink, ctx) => {
      asked.push({ narHash: req.narHash, narSize: req.narSize });
      return handler.fetch(req, sink, ctx);
    },
  };
  const dir = await Deno.makeTempDir();
  const server = new ControlServer(await listenControlSocket(`${dir}/c.sock`), byPath, {
    mapError,
  });
  server.start();
  try {
    using client = new ControlClient(await connectControlSocket(`${dir}/c.sock`));
    const kinds: string[] = [];
    let bytes = 0;
    for await (const ev of client.fetch({ storePath: path })) {
      if (ev.kind === "data") bytes += ev.bytes.length;
      else kinds.push(ev.kind === "narinfo" ? `narinfo:${ev.item.kind}` : ev.kind);
    }
    assertEquals(kinds[0], "narinfo:found");
    assertEquals(kinds.at(-1), "done");
    assertEquals(bytes, 70000);
    // The daemon fetched the NAR its own narinfo names.
    assertEquals(asked, [{ narHash, narSize: 70000 }]);
    const missing = [];
    for await (const ev of client.fetch({ storePath: "/gnu/store/x-gone" })) missing.push(ev);
    assertEquals(missing.map((e) => e.kind === "narinfo" && e.item.kind), ["missing"]);
    // The connection is still usable.
    assertEquals((await client.lookup([path]))[0]?.kind, "found");
    // NarHash without NarSize is refused.
    await assertRejects(
      async () => {
        for await (const _ of client.fetch({ storePath: path, narHash })) { /* nothing */ }
      },
      ControlRemoteError,
      "both narHash and narSize",
    );
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
