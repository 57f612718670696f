/**
 * Network namespaces for multi-host tests (root only): LANs as Linux bridges
 * in their own namespaces, hosts joined to them by veth pairs, routers that
 * forward between LANs, and home routers that masquerade (nftables) and drop
 * unsolicited inbound traffic like a consumer NAT box.
 *
 * Every name carries the lab's id (`gp2p<pid>n<k>`), so labs of concurrent
 * test runs never collide; disposing the lab kills whatever still runs in
 * its namespaces and deletes them, also when the test failed. Labs left by a
 * killed test run (their pid is gone) are swept when the next lab starts.
 *
 * @example
 * ```ts
 * await using lab = await NetLab.create();
 * const lan = await lab.lan("lan", "10.61.1");
 * const a = await lab.host("a", { lan, ip: "10.61.1.2" });
 * await a.run(["ping", "-c1", "10.61.1.3"]);
 * ```
 * @module
 */

/** Why namespace tests cannot run here, or undefined when they can. */
export function netnsSkipReason(): string | undefined {
  if (Deno.uid() !== 0) return "network namespace tests need root (CI runs as root)";
  for (const cmd of ["ip", "nft"]) {
    const found = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].some((d) => {
      try {
        return Deno.statSync(`${d}/${cmd}`).isFile;
      } catch {
        return false;
      }
    });
    if (!found) return `network namespace tests need '${cmd}' (Debian iproute2 / nftables)`;
  }
  return undefined;
}

/** Runs a command; throws with its stderr when it fails. */
export async function sh(args: string[]): Promise<string> {
  const out = await new Deno.Command(args[0]!, {
    args: args.slice(1),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `${args.join(" ")} exited ${out.code}: ${new TextDecoder().decode(out.stderr).trim()}`,
    );
  }
  return text;
}

/** A LAN: a bridge `br0` in its own namespace; `subnet` is the first three octets. */
export interface Lan {
  name: string;
  ns: string;
  subnet: string;
}

/** A host (or router) namespace. */
export interface Host {
  name: string;
  ns: string;
  /** Its address on each LAN it joined, by LAN name. */
  ips: Record<string, string>;
  /** Its first address. */
  ip: string;
  /** Runs a command inside the namespace. */
  run(args: string[]): Promise<string>;
  /** The command prefix that runs a program inside the namespace. */
  wrap(args: string[]): string[];
}

/** Options of {@linkcode NetLab.host}. */
export interface HostOptions {
  /** The LAN and the address (in its subnet) of the host's `eth0`. */
  lan: Lan;
  ip: string;
  /** Default gateway; without one, multicast is routed on eth0 (mDNS). */
  gateway?: string;
}

/** One interface of a router. */
export interface RouterLink {
  lan: Lan;
  ip: string;
}

const PREFIX = "gp2p";
let counter = 0;

/** A set of namespaces torn down together. */
export class NetLab implements AsyncDisposable {
  /** Prefix of every namespace of this lab. */
  readonly id: string;
  /** A number unique to this lab within the process (for address plans). */
  readonly index: number;
  #namespaces: string[] = [];
  #links = 0;

  private constructor(index: number) {
    this.index = index;
    this.id = `${PREFIX}${Deno.pid}n${index}`;
  }

  /** Creates an empty lab (and sweeps labs of dead test runs). */
  static async create(): Promise<NetLab> {
    const reason = netnsSkipReason();
    if (reason) throw new Error(reason);
    await sweepStale();
    return new NetLab(++counter);
  }

  /** Every namespace created so far. */
  get namespaces(): readonly string[] {
    return this.#namespaces;
  }

  async #namespace(short: string): Promise<string> {
    const ns = `${this.id}-${short}`;
    await sh(["ip", "netns", "add", ns]);
    this.#namespaces.push(ns);
    await sh(["ip", "-n", ns, "link", "set", "lo", "up"]);
    return ns;
  }

  /** A LAN `subnet`.0/24 (e.g. "10.61.1"): a bridge in namespace `<id>-<name>`. */
  async lan(name: string, subnet: string): Promise<Lan> {
    const ns = await this.#namespace(name);
    await sh(["ip", "-n", ns, "link", "add", "br0", "type", "bridge"]);
    await sh(["ip", "-n", ns, "link", "set", "br0", "up"]);
    return { name, ns, subnet };
  }

  /** Connects interface `ifname` of namespace `ns` to `lan` with address `ip`/24. */
  async #attach(ns: string, ifname: string, lan: Lan, ip: string): Promise<void> {
    if (!ip.startsWith(`${lan.subnet}.`)) {
      throw new Error(`${ip} is not in LAN ${lan.name} (${lan.subnet}.0/24)`);
    }
    const port = `p${++this.#links}`;
    await sh([
      "ip",
      "link",
      "add",
      ifname,
      "netns",
      ns,
      "type",
      "veth",
      "peer",
      "name",
      port,
      "netns",
      lan.ns,
    ]);
    await sh(["ip", "-n", lan.ns, "link", "set", port, "master", "br0", "up"]);
    await sh(["ip", "-n", ns, "addr", "add", `${ip}/24`, "dev", ifname]);
    await sh(["ip", "-n", ns, "link", "set", ifname, "up"]);
  }

  #host(name: string, ns: string, ips: Record<string, string>): Host {
    const wrap = (args: string[]) => ["ip", "netns", "exec", ns, ...args];
    return {
      name,
      ns,
      ips,
      ip: Object.values(ips)[0]!,
      wrap,
      run: (args) => sh(wrap(args)),
    };
  }

  /** A host on one LAN. */
  async host(name: string, options: HostOptions): Promise<Host> {
    const ns = await this.#namespace(name);
    await this.#attach(ns, "eth0", options.lan, options.ip);
    if (options.gateway) {
      await sh(["ip", "-n", ns, "route", "add", "default", "via", options.gateway]);
    } else {
      await sh(["ip", "-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0"]);
    }
    return this.#host(name, ns, { [options.lan.name]: options.ip });
  }

  /**
   * A router forwarding between `links` (interfaces eth0, eth1, …). `routes`
   * adds routes to further networks (`"10.62.0.0/16 via 10.61.0.1"`).
   */
  async router(name: string, links: RouterLink[], routes: string[] = []): Promise<Host> {
    const ns = await this.#namespace(name);
    const ips: Record<string, string> = {};
    for (const [i, l] of links.entries()) {
      await this.#attach(ns, `eth${i}`, l.lan, l.ip);
      ips[l.lan.name] = l.ip;
    }
    await sh(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    for (const r of routes) await sh(["ip", "-n", ns, "route", "add", ...r.split(" ")]);
    return this.#host(name, ns, ips);
  }

  /**
   * A home router: `wan` on the outside LAN, `lan` inside. Outgoing traffic
   * is masqueraded (source NAT to the WAN address, conntrack); unsolicited
   * inbound traffic is dropped — no port forwarding, no UPnP.
   */
  async natRouter(name: string, wan: RouterLink, lan: RouterLink): Promise<Host> {
    const ns = await this.#namespace(name);
    await this.#attach(ns, "wan", wan.lan, wan.ip);
    await this.#attach(ns, "lan", lan.lan, lan.ip);
    await sh(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    const rules = `
table ip nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan" masquerade
  }
}
table ip filter {
  chain forward {
    type filter hook forward priority filter; policy drop;
    iifname "lan" oifname "wan" accept
    ct state established,related accept
  }
}
`;
    const file = await Deno.makeTempFile({ prefix: "gp2p-nft-" });
    try {
      await Deno.writeTextFile(file, rules);
      await sh(["ip", "netns", "exec", ns, "nft", "-f", file]);
    } finally {
      await Deno.remove(file).catch(() => {});
    }
    return this.#host(name, ns, { [wan.lan.name]: wan.ip, [lan.lan.name]: lan.ip });
  }

  /**
   * Kills what still runs in the lab's namespaces and deletes them. With
   * GUIX_P2P_NETNS_KEEP=1 the namespaces are kept (processes are still
   * killed) for inspection; the next lab of a later run sweeps them.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (Deno.env.get("GUIX_P2P_NETNS_KEEP")) {
      for (const ns of this.#namespaces) await killProcesses(ns);
      console.error(`netns: kept ${this.#namespaces.join(" ")}`);
      return;
    }
    await removeNamespaces(this.#namespaces);
    this.#namespaces = [];
  }
}

/** SIGKILLs whatever runs in namespace `ns`. */
async function killProcesses(ns: string): Promise<void> {
  const pids = await sh(["ip", "netns", "pids", ns]).catch(() => "");
  for (const pid of pids.split(/\s+/).filter(Boolean)) {
    try {
      Deno.kill(Number(pid), "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Kills the processes of `namespaces` and deletes them. */
async function removeNamespaces(namespaces: readonly string[]): Promise<void> {
  for (const ns of [...namespaces].reverse()) {
    await killProcesses(ns);
    await sh(["ip", "netns", "delete", ns]).catch(() => {});
  }
}

/** Deletes namespaces of labs whose test process no longer exists. */
async function sweepStale(): Promise<void> {
  const list = await sh(["ip", "netns", "list"]).catch(() => "");
  const stale = list.split("\n").map((l) => l.split(" ")[0]!).filter((name) => {
    const m = new RegExp(`^${PREFIX}(\\d+)n\\d+-`).exec(name);
    if (!m) return false;
    try {
      Deno.statSync(`/proc/${m[1]}`);
      return false;
    } catch {
      return true;
    }
  });
  await removeNamespaces(stale);
}
