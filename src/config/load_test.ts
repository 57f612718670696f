import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { ConfigError } from "./errors.ts";
import { overridesFromFlags } from "./flags.ts";
import { findKeyLine, resolveConfig } from "./load.ts";
import { configurationMarkdown, starterFile } from "./render.ts";
import { CONFIG_KEYS } from "./schema.ts";

const env = (vars: Record<string, string> = {}) => ({ get: (k: string) => vars[k] });
const file = (text: string) => ({ path: "/etc/guix-p2p/config.toml", text });

Deno.test("defaults follow the environment like Guix does", () => {
  const c = resolveConfig({
    env: env({
      NIX_STORE_DIR: "/tmp/s/",
      XDG_CACHE_HOME: "/tmp/c",
      GUIX_CONFIGURATION_DIRECTORY: "/tmp/g",
    }),
  });
  assertEquals(c.store_dir, "/tmp/s");
  assertEquals(c.cache_dir, "/tmp/c/guix-p2p");
  assertEquals(c.socket_path, "/tmp/c/guix-p2p/control.sock");
  assertEquals(c.acl_path, "/tmp/g/acl");
  assertEquals(c.policy, "p2p-first");
  assertEquals(c.min_providers, 1);
  const plain = resolveConfig({ env: env({ HOME: "/home/a" }) });
  assertEquals(plain.store_dir, "/gnu/store");
  assertEquals(plain.cache_dir, "/home/a/.cache/guix-p2p");
  assertEquals(plain.acl_path, "/etc/guix/acl");
});

Deno.test("file values are typed and validated; units are understood", () => {
  const c = resolveConfig({
    env: env(),
    file: file(`
store_dir = "/srv/store"
cache_dir = "/var/cache/guix-p2p"
substitute_urls = ["https://example.org/", "file:///srv/cache"]
policy = "http-first"
narinfo_ttl = "1h30m"
block_size = "1MiB"
max_upload_rate = "20MB/s"
cache_size = 1048576
bootstrap_peers = ["/ip4/10.0.0.1/tcp/6881/p2p/12D3KooWDnvPgCuPTPaMbnbLpXP7kCxmXc9F7agJPuAJWXGoDNPT"]
`),
  });
  assertEquals(c.store_dir, "/srv/store");
  assertEquals(c.socket_path, "/var/cache/guix-p2p/control.sock", "socket follows cache_dir");
  assertEquals(c.substitute_urls, ["https://example.org", "file:///srv/cache"]);
  assertEquals(c.policy, "http-first");
  assertEquals(c.narinfo_ttl, 5400);
  assertEquals(c.block_size, 1024 * 1024);
  assertEquals(c.max_upload_rate, 20_000_000);
  assertEquals(c.cache_size, 1048576);
});

Deno.test("every kind of invalid value names file, line and key", () => {
  const cases: [string, string][] = [
    ['policy = "fast"\n', 'config.toml:1: key "policy": expected one of "p2p-first"'],
    [
      '\n\npolcy = "http-only"\n',
      'config.toml:3: key "polcy": unknown key (did you mean "policy"?)',
    ],
    ["mdns = 1\n", 'config.toml:1: key "mdns": expected true or false, got 1'],
    ['substitute_urls = ["ftp://x"]\n', "URL scheme must be http or https or file"],
    ["substitute_urls = 3\n", "expected an array"],
    [
      'listen_addr = "/ip4/1.2.3/tcp/1"\n',
      'key "listen": element 0: not a valid multiaddr: "/ip4/1.2.3/tcp/1"',
    ],
    ['listen_addr = "/ip4/1.2.3/tcp/1"\n', '(from "listen_addr")'],
    [
      '# x\nlisten = ["/ip4/1.2.3/tcp/1"]\n',
      'config.toml:2: key "listen": element 0: not a valid multiaddr',
    ],
    ['bootstrap_peers = ["/ip4/1.2.3.4/tcp/1"]\n', "must end in /p2p/<peer id>"],
    [
      'listen = ["/ip4/0.0.0.0/udp/6881/quic-v1"]\n',
      'config.toml:1: key "listen": element 0: only TCP listen addresses are supported',
    ],
    ['listen = ["/ip4/0.0.0.0/tcp/6881/ws"]\n', "only TCP listen addresses are supported"],
    ["min_providers = 0\n", "expected an integer from 1 to 64, got 0"],
    ['block_size = "100KiB"\n', "power of two"],
    ['narinfo_ttl = "soon"\n', "expected a duration"],
    ['store_dir = "relative"\n', "expected an absolute path"],
    ['gateway_listen = "0.0.0.0:8380"\n', "loopback"],
    ['nix_trusted_public_keys = ["nope"]\n', "Nix public key"],
    ["[p2p]\nmdns = true\n", 'config.toml:1: key "p2p": unknown table'],
    ['policy = "unterminated\n', "config.toml:1: TOML syntax error"],
  ];
  for (const [text, message] of cases) {
    const e = assertThrows(() => resolveConfig({ env: env(), file: file(text) }), ConfigError);
    assertStringIncludes(e.message, message, `for ${JSON.stringify(text)}`);
  }
});

Deno.test("command-line overrides win over the file, and bad ones name the flag", () => {
  const overrides = overridesFromFlags({
    policy: "http-only",
    "substitute-urls": "https://a.example https://b.example",
    set: ["min_providers=2", 'listen=["/ip4/127.0.0.1/tcp/0"]'],
  });
  const c = resolveConfig({ env: env(), file: file('policy = "p2p-only"\n'), overrides });
  assertEquals(c.policy, "http-only");
  assertEquals(c.substitute_urls, ["https://a.example", "https://b.example"]);
  assertEquals(c.min_providers, 2);
  assertEquals(c.listen, ["/ip4/127.0.0.1/tcp/0"]);
  const bad = assertThrows(
    () => resolveConfig({ env: env(), overrides: overridesFromFlags({ set: ["policy=fast"] }) }),
    ConfigError,
  );
  assertStringIncludes(bad.message, 'command line --set policy: key "policy"');
  assertThrows(
    () => resolveConfig({ env: env(), overrides: overridesFromFlags({ set: ["nope=1"] }) }),
    ConfigError,
    "unknown key",
  );
  assertThrows(() => overridesFromFlags({ set: ["=1"] }), ConfigError, "expected KEY=VALUE");
});

Deno.test("the starter file, uncommented, is valid and equals the defaults", () => {
  const text = starterFile().split("\n").map((l) => l.replace(/^# ([a-z_]+ = )/, "$1")).join("\n");
  const e = env({ HOME: "/h" });
  const fromStarter = resolveConfig({ env: e, file: file(text) });
  const defaults = resolveConfig({ env: e });
  for (const spec of CONFIG_KEYS) {
    if (spec.example !== undefined) continue; // environment-dependent default
    assertEquals(fromStarter[spec.key], defaults[spec.key], spec.key);
  }
});

Deno.test("docs/configuration.md is generated from the schema and up to date", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/configuration.md", import.meta.url));
  assertEquals(doc.trimEnd(), configurationMarkdown().trimEnd());
});

Deno.test("findKeyLine finds assignments and tables, not comments", () => {
  const text = "# policy = 1\n\npolicy = 2\n[mdns]\n";
  assertEquals(findKeyLine(text, "policy"), 3);
  assertEquals(findKeyLine(text, "mdns"), 4);
  assertEquals(findKeyLine(text, "absent"), undefined);
});
