/**
 * Store catalogs (see `catalog.ts` for the rules): the store's own daemon
 * through its command (`guix gc`, `nix-store`), or a plain directory listing
 * with a reference scan. {@linkcode storeCatalog} picks one per store.
 *
 * @example
 * ```ts
 * import { storeCatalog } from "./deno_catalog.ts";
 * const catalog = await storeCatalog("/gnu/store", { flavour: "guix" });
 * const items = await catalog.closure(["/gnu/store/…-profile"]);
 * ```
 * @module
 */
import {
  isItemOf,
  isSeedableName,
  parseItemList,
  profileItem,
  refOverlap,
  type StoreCatalog,
  storeRefs,
} from "./catalog.ts";

/** A store directory without its daemon: listing and reference scanning. */
export class DirectoryCatalog implements StoreCatalog {
  readonly rule: string;
  #dir: string;
  /** Hash part → base name, refreshed when a reference is not found in it. */
  #names = new Map<string, string>();

  /** A catalog of the plain directory `storeDir`. */
  constructor(storeDir: string) {
    this.#dir = storeDir;
    this.rule =
      `${storeDir} as a plain directory: every <hash>-<name> entry; references found by scanning files and symlinks`;
  }

  async #list(): Promise<string[]> {
    const names: string[] = [];
    for await (const e of Deno.readDir(this.#dir)) {
      if (isSeedableName(e.name)) names.push(e.name);
    }
    this.#names = new Map(names.map((n) => [n.slice(0, 32), n]));
    return names.sort();
  }

  /** Every store-item-shaped entry. */
  async valid(): Promise<string[]> {
    return (await this.#list()).map((n) => `${this.#dir}/${n}`);
  }

  /** The items and the entries their files and symlinks name, transitively. */
  async closure(items: readonly string[], options: { signal?: AbortSignal } = {}) {
    await this.#list();
    const seen = new Set<string>();
    const queue: string[] = [];
    for (const item of items) {
      if (!isItemOf(item, this.#dir)) throw new Error(`${item} is not an item of ${this.#dir}`);
      await Deno.lstat(item); // names a missing item
      if (!seen.has(item)) {
        seen.add(item);
        queue.push(item);
      }
    }
    while (queue.length > 0) {
      options.signal?.throwIfAborted();
      const item = queue.shift()!;
      for (const hash of await scanItem(item, this.#dir, options.signal)) {
        const name = this.#names.get(hash);
        if (!name) continue; // a path that is not (or no longer) in the store
        const ref = `${this.#dir}/${name}`;
        if (!seen.has(ref)) {
          seen.add(ref);
          queue.push(ref);
        }
      }
    }
    return [...seen].filter((p) => isSeedableName(p.slice(this.#dir.length + 1)));
  }
}

/** The hash parts of store paths named in `item`'s files and symlink targets. */
async function scanItem(
  item: string,
  storeDir: string,
  signal?: AbortSignal,
): Promise<Set<string>> {
  const found = new Set<string>();
  const add = (text: string) => {
    for (const h of storeRefs(text, storeDir)) found.add(h);
  };
  const overlap = refOverlap(storeDir);
  const decoder = new TextDecoder("latin1");
  const visit = async (path: string): Promise<void> => {
    signal?.throwIfAborted();
    const st = await Deno.lstat(path);
    if (st.isSymlink) add(await Deno.readLink(path));
    else if (st.isDirectory) {
      for await (const e of Deno.readDir(path)) await visit(`${path}/${e.name}`);
    } else if (st.isFile) {
      using file = await Deno.open(path);
      let tail = "";
      const buf = new Uint8Array(256 * 1024);
      for (;;) {
        const n = await file.read(buf);
        if (n === null) break;
        const text = tail + decoder.decode(buf.subarray(0, n));
        add(text);
        tail = text.slice(-overlap);
      }
    }
  };
  await visit(item);
  return found;
}

/** The store's daemon through its command line (`guix gc`, `nix-store`). */
export class CommandCatalog implements StoreCatalog {
  readonly rule: string;
  #dir: string;
  #program: string;
  #flavour: "guix" | "nix";

  /** A catalog asking `program` (a `guix` or `nix-store` executable) about `storeDir`. */
  constructor(storeDir: string, program: string, flavour: "guix" | "nix") {
    this.#dir = storeDir;
    this.#program = program;
    this.#flavour = flavour;
    this.rule = flavour === "guix"
      ? `${storeDir} through guix-daemon: \`guix gc --list-live\`, \`guix gc --requisites\``
      : `${storeDir} through Nix: \`nix-store --gc --print-live\`, \`nix-store --query --requisites\``;
  }

  async #run(args: string[], signal?: AbortSignal): Promise<string[]> {
    const out = await new Deno.Command(this.#program, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      ...(signal ? { signal } : {}),
    }).output();
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" ");
      throw new Error(`${this.#program} ${args.join(" ")} failed (${out.code}): ${err}`);
    }
    return parseItemList(new TextDecoder().decode(out.stdout), this.#dir);
  }

  /** Live items (reachable from a GC root). */
  valid(options: { signal?: AbortSignal } = {}): Promise<string[]> {
    return this.#run(
      this.#flavour === "guix" ? ["gc", "--list-live"] : ["--gc", "--print-live"],
      options.signal,
    );
  }

  /** Requisites of `items` from the store's database. */
  closure(items: readonly string[], options: { signal?: AbortSignal } = {}): Promise<string[]> {
    for (const item of items) {
      if (!isItemOf(item, this.#dir)) throw new Error(`${item} is not an item of ${this.#dir}`);
    }
    if (items.length === 0) return Promise.resolve([]);
    return this.#run(
      this.#flavour === "guix"
        ? ["gc", "--requisites", ...items]
        : ["--query", "--requisites", ...items],
      options.signal,
    );
  }
}

async function executable(path: string): Promise<boolean> {
  try {
    const st = await Deno.stat(path);
    return st.isFile && (st.mode ?? 0) & 0o111 ? true : false;
  } catch {
    return false;
  }
}

async function findProgram(name: string, extra: string[]): Promise<string | undefined> {
  const path = (Deno.env.get("PATH") ?? "").split(":").filter((d) => d !== "");
  for (const dir of [...path, ...extra]) {
    if (await executable(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return undefined;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

/**
 * The catalog of `storeDir`: through its daemon when this is the store the
 * daemon manages (`/gnu/store` with a `guix` command and guix-daemon's
 * socket; `/nix/store` with `nix-store` and its database), else the plain
 * directory rule.
 */
export async function storeCatalog(
  storeDir: string,
  options: { flavour: "guix" | "nix" },
): Promise<StoreCatalog> {
  if (options.flavour === "guix" && storeDir === "/gnu/store") {
    const socket = Deno.env.get("GUIX_DAEMON_SOCKET") ?? "/var/guix/daemon-socket/socket";
    const guix = await findProgram("guix", [
      "/run/current-system/profile/bin",
      "/var/guix/profiles/per-user/root/current-guix/bin",
    ]);
    if (guix && (socket.includes("://") || await exists(socket))) {
      return new CommandCatalog(storeDir, guix, "guix");
    }
  }
  if (options.flavour === "nix" && storeDir === "/nix/store") {
    const nixStore = await findProgram("nix-store", ["/run/current-system/sw/bin"]);
    if (nixStore && await exists("/nix/var/nix/db")) {
      return new CommandCatalog(storeDir, nixStore, "nix");
    }
  }
  return new DirectoryCatalog(storeDir);
}

/**
 * The Deno side of seeding many items: each store's catalog (chosen once)
 * and profile resolution — a profile is a chain of symlinks ending in (or
 * inside) a store item; that item is the profile's current generation.
 */
export function denoSeedStores(
  config: { store_dir: string; nix_store_dir: string },
): {
  catalog(storeDir: string): Promise<StoreCatalog>;
  resolveProfile(p: string): Promise<string>;
} {
  const catalogs = new Map<string, Promise<StoreCatalog>>();
  const dirs = [config.store_dir, config.nix_store_dir];
  return {
    catalog(storeDir) {
      let c = catalogs.get(storeDir);
      if (!c) {
        c = storeCatalog(storeDir, {
          flavour: storeDir === config.nix_store_dir ? "nix" : "guix",
        });
        catalogs.set(storeDir, c);
      }
      return c;
    },
    async resolveProfile(profile) {
      return profileItem(await Deno.realPath(profile), dirs, profile);
    },
  };
}
