/**
 * A substitute server far away, for the closure benchmark (issue 15): the
 * server runs in its own network namespace behind a router namespace that
 * adds `rtt` ms of round trip (half each way) to every packet it forwards;
 * the daemons and helpers stay in the root namespace and reach the server
 * only at its namespace address (`10.78.<k>.2`, a route through the router).
 *
 * The delay is `tc qdisc … netem` on the router's two interfaces when the
 * kernel has `sch_netem`. This machine's kernel does not (CONFIG_NET_SCH_NETEM
 * unset; `tc qdisc add … netem` fails with "Error: Specified qdisc kind is
 * unknown."), so the fallback holds every forwarded packet in an NFQUEUE for
 * the delay (`nfq_delay.py`, libnetfilter_queue through ctypes; iptables
 * `FORWARD -j NFQUEUE` in the router namespace) — kernel packets with a real
 * RTT for TCP, like netem; `method` says which one ran. (Queueing on the
 * router, not on the hosts, matters: packets held on a host's own output
 * count against TCP Small Queues, which then allows ~2 in flight: 57 KB/s.)
 * Needs root, iproute2 and, for the fallback, iptables and libnetfilter-queue1.
 *
 * @example
 * ```ts
 * await using far = await startFarServer("/tmp/bench/cache", { rttMs: 100 });
 * far.url; // "http://10.78.3.2:8080"
 * await far.setRtt(20);
 * ```
 * @module
 */
import { ROOT } from "../../tests/support/daemon_proc.ts";

/** A running far server. */
export interface FarServer extends AsyncDisposable {
  /** The whole cache (narinfos and NARs). */
  url: string;
  /** The same cache with every NAR answered 404. */
  narlessUrl: string;
  /** The round trip added now (ms). */
  rttMs: number;
  /** "netem", or "nfqueue (netem unavailable: …)". */
  method: string;
  /** Changes the added round trip. */
  setRtt(ms: number): Promise<void>;
}

async function sh(args: string[], check = true): Promise<{ ok: boolean; err: string }> {
  const out = await new Deno.Command(args[0]!, { args: args.slice(1), stderr: "piped" }).output();
  const err = new TextDecoder().decode(out.stderr).trim();
  if (check && !out.success) throw new Error(`${args.join(" ")}: ${err}`);
  return { ok: out.success, err };
}

/** Starts the namespaces, the router's delay and the server (see the module documentation). */
export async function startFarServer(
  cacheDir: string,
  options: { rttMs: number },
): Promise<FarServer> {
  if (Deno.uid() !== 0) throw new Error("the far server needs root (network namespaces)");
  const k = 1 + (Deno.pid % 200);
  const id = `gp2pfar${Deno.pid}`;
  const router = `${id}-r`;
  const far = `${id}-f`;
  const [rootIf, routerIn, routerOut, farIf] = ["a", "b", "c", "d"].map((x) => `gpf${k}${x}`);
  const near = `10.79.${k}`; // root ↔ router
  const net = `10.78.${k}`; // router ↔ server
  const children: Deno.ChildProcess[] = [];
  let delayer: Deno.ChildProcess | undefined;
  const cleanup = async () => {
    for (const c of [...children, ...(delayer ? [delayer] : [])]) {
      try {
        c.kill("SIGTERM");
      } catch { /* gone */ }
      await c.status;
    }
    await sh(["ip", "netns", "del", far], false);
    await sh(["ip", "netns", "del", router], false);
    await sh(["ip", "link", "del", rootIf!], false);
  };
  try {
    await sh(["ip", "netns", "add", router]);
    await sh(["ip", "netns", "add", far]);
    await sh(["ip", "link", "add", rootIf!, "type", "veth", "peer", "name", routerIn!]);
    await sh(["ip", "link", "set", routerIn!, "netns", router]);
    await sh([
      "ip",
      "-n",
      router,
      "link",
      "add",
      routerOut!,
      "type",
      "veth",
      "peer",
      "name",
      farIf!,
    ]);
    await sh(["ip", "-n", router, "link", "set", farIf!, "netns", far]);
    await sh(["ip", "addr", "add", `${near}.1/24`, "dev", rootIf!]);
    await sh(["ip", "link", "set", rootIf!, "up"]);
    for (const [ifname, addr] of [[routerIn!, `${near}.2/24`], [routerOut!, `${net}.1/24`]]) {
      await sh(["ip", "-n", router, "addr", "add", addr!, "dev", ifname!]);
      await sh(["ip", "-n", router, "link", "set", ifname!, "up"]);
    }
    await sh(["ip", "-n", router, "link", "set", "lo", "up"]);
    await sh(["ip", "netns", "exec", router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
    await sh(["ip", "-n", far, "addr", "add", `${net}.2/24`, "dev", farIf!]);
    await sh(["ip", "-n", far, "link", "set", farIf!, "up"]);
    await sh(["ip", "-n", far, "link", "set", "lo", "up"]);
    await sh(["ip", "-n", far, "route", "add", "default", "via", `${net}.1`]);
    await sh(["ip", "route", "add", `${net}.0/24`, "via", `${near}.2`]);
    // The server, in its namespace.
    const deno = Deno.env.get("GUIX_P2P_DENO") ?? Deno.execPath();
    const server = new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        far,
        deno,
        "run",
        "-A",
        "--quiet",
        "--cached-only",
        `${ROOT}/bench/closure/far_server_child.ts`,
        cacheDir,
        `${net}.2`,
        "8080",
        "8081",
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    children.push(server);
    await waitReady(server, "far server");
    // The delay: netem when the kernel has it, else the NFQUEUE stand-in.
    const netem = await sh([
      "ip",
      "netns",
      "exec",
      router,
      "tc",
      "qdisc",
      "add",
      "dev",
      routerIn!,
      "root",
      "netem",
      "delay",
      "0ms",
    ], false);
    let method = "netem";
    if (netem.ok) {
      await sh([
        "ip",
        "netns",
        "exec",
        router,
        "tc",
        "qdisc",
        "add",
        "dev",
        routerOut!,
        "root",
        "netem",
        "delay",
        "0ms",
      ]);
    } else {
      method =
        `nfqueue (netem unavailable: "tc qdisc add dev ${routerIn} root netem" says "${netem.err}")`;
      await sh([
        "ip",
        "netns",
        "exec",
        router,
        "iptables",
        "-A",
        "FORWARD",
        "-j",
        "NFQUEUE",
        "--queue-num",
        "0",
        "--queue-bypass",
      ]);
    }
    const result: FarServer = {
      url: `http://${net}.2:8080`,
      narlessUrl: `http://${net}.2:8081`,
      rttMs: -1,
      method,
      async setRtt(ms: number) {
        if (ms === result.rttMs) return;
        const half = `${ms / 2}ms`;
        if (method === "netem") {
          for (const dev of [routerIn!, routerOut!]) {
            await sh([
              "ip",
              "netns",
              "exec",
              router,
              "tc",
              "qdisc",
              "change",
              "dev",
              dev,
              "root",
              "netem",
              "delay",
              half,
            ]);
          }
        } else {
          if (delayer) {
            delayer.kill("SIGTERM");
            await delayer.status;
            delayer = undefined;
          }
          // With no process on the queue, --queue-bypass lets packets through at once.
          if (ms > 0) {
            delayer = new Deno.Command("ip", {
              args: [
                "netns",
                "exec",
                router,
                "python3",
                `${ROOT}/bench/closure/nfq_delay.py`,
                "0",
                String(ms / 2),
              ],
              stdout: "piped",
              stderr: "inherit",
            }).spawn();
            await waitReady(delayer, "nfq_delay.py");
          }
        }
        result.rttMs = ms;
      },
      [Symbol.asyncDispose]: cleanup,
    };
    await result.setRtt(options.rttMs);
    return result;
  } catch (e) {
    await cleanup();
    throw e;
  }
}

async function waitReady(child: Deno.ChildProcess, what: string): Promise<void> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const timer = setTimeout(() => reader.cancel(new Error("timeout")).catch(() => {}), 30_000);
  try {
    while (!text.includes("READY")) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`${what} exited before READY: ${text}`);
      text += value;
    }
  } finally {
    clearTimeout(timer);
  }
  // Keep draining (a full pipe would block the child).
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })().catch(() => {});
}
