/**
 * The Guix channel, as far as it can be checked without Guix (docs/guix.md,
 * "What the tests check"). Real Guile loads `(guix-p2p packages)` and
 * `(guix-p2p services)` BY NAME from the channel layout (`-L guix`), with
 * thin stand-ins of the Guix modules they import (tests/guile/modules/).
 *
 * - `./dev release` packs an executable and writes the hash `guix hash`
 *   computes (checked with Nix's `nix-hash`, the same nix-base32 SHA-256).
 * - The package's phases run as copy-build-system runs them, on the real
 *   Deno runtime (the same ELF that `deno compile` embeds the program in)
 *   with real patchelf, in a stand-in store whose "glibc" is this machine's
 *   loader copied to a store-like path: the result must run, keep argv[0]
 *   through the substitute symlink, and pass the RUNPATH validation.
 * - The service's TOML passes the real `guix-p2p config check`; guix-daemon's
 *   environment keeps an existing GUIX_EXTENSIONS_PATH; the Shepherd start
 *   command and activation are what the daemon needs.
 * - The systemd units pass `systemd-analyze verify`, the sysusers/tmpfiles
 *   snippets run under `--root`.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { LAUNCHER, ROOT } from "./support/daemon_proc.ts";
import { forceRemove } from "./support/tree_check.ts";

const DENO = Deno.execPath();
const decoder = new TextDecoder();

async function run(cmd: string, args: string[], options: Deno.CommandOptions = {}) {
  const out = await new Deno.Command(cmd, { args, ...options, stdout: "piped", stderr: "piped" })
    .output();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** Runs tests/guile/channel-check.scm; returns its JSON answer. */
async function channel(args: string[], options: Deno.CommandOptions = {}) {
  const out = await run("guile", [
    "--no-auto-compile",
    "-L",
    `${ROOT}/guix`,
    "-L",
    `${ROOT}/tests/guile/modules`,
    `${ROOT}/tests/guile/channel-check.scm`,
    ...args,
  ], options);
  assertEquals(out.code, 0, out.stdout + out.stderr);
  const json = out.stdout.trim().split("\n").at(-1)!;
  return { value: JSON.parse(json), log: out.stdout + out.stderr };
}

async function nixHashFile(file: string): Promise<string> {
  const out = await run("nix-hash", ["--type", "sha256", "--flat", "--base32", file]);
  assertEquals(out.code, 0, out.stderr);
  return out.stdout.trim();
}

/** `./dev release` on a copy of the package file in DIR (made on the first call). */
async function release(dir: string, executable: string, url: string) {
  await Deno.stat(`${dir}/packages.scm`).catch(() =>
    Deno.copyFile(`${ROOT}/guix/guix-p2p/packages.scm`, `${dir}/packages.scm`)
  );
  return await run(`${ROOT}/dev`, [
    "release",
    "--executable",
    executable,
    "--url",
    url,
    "--package-file",
    `${dir}/packages.scm`,
    "--dist",
    `${dir}/dist`,
  ]);
}

const VERSION = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).version as string;
const ARTEFACT = `guix-p2p-${VERSION}-x86_64-linux.tar.gz`;

Deno.test("dev release packs an executable and writes the hash guix would compute", async () => {
  const dir = await Deno.makeTempDir({ prefix: "guix-p2p-release-" });
  try {
    await Deno.writeTextFile(`${dir}/exe`, "#!/bin/sh\necho not really deno\n");
    const out = await release(dir, `${dir}/exe`, "https://example.net/dl/");
    assertEquals(out.code, 0, out.stdout + out.stderr);
    const tarball = `${dir}/dist/${ARTEFACT}`;
    const hash = await nixHashFile(tarball);
    const pkg = await Deno.readTextFile(`${dir}/packages.scm`);
    assertStringIncludes(pkg, `(base32 "${hash}")`);
    assertStringIncludes(pkg, '(define %release-url "https://example.net/dl/")');
    assertStringIncludes(pkg, `(version "${VERSION}")`);
    assertStringIncludes(out.stdout, `https://example.net/dl/${ARTEFACT}`);
    assertStringIncludes(out.stdout, "(channel");
    const listing = await run("tar", ["tzvf", tarball]);
    const top = `guix-p2p-${VERSION}`;
    for (
      const file of [
        "bin/guix-p2p",
        "share/guix/extensions/substitute.scm",
        "share/guix-p2p/systemd/guix-p2p.service",
        "share/guix-p2p/systemd/guix-daemon.service.d/guix-p2p.conf",
        "share/doc/guix-p2p/README.md",
        "share/doc/guix-p2p/docs/guix.md",
      ]
    ) assertStringIncludes(listing.stdout, `${top}/${file}`);
    assertMatch(listing.stdout, /-rwxr-xr-x 0\/0 .* guix-p2p-[^/]+\/bin\/guix-p2p\n/);

    // Deterministic: the same executable gives the same artefact and hash.
    const again = await release(dir, `${dir}/exe`, `https://example.net/dl/${ARTEFACT}`);
    assertEquals(again.code, 0, again.stderr);
    assertEquals(await nixHashFile(tarball), hash);

    // A URL that names another file is refused, and the package is left alone.
    const before = await Deno.readTextFile(`${dir}/packages.scm`);
    const bad = await release(dir, `${dir}/exe`, "https://example.net/dl/other.tar.gz");
    assertEquals(bad.code, 1);
    assertStringIncludes(bad.stderr, `--url must end in / or in /${ARTEFACT}`);
    assertEquals(await Deno.readTextFile(`${dir}/packages.scm`), before);
  } finally {
    await forceRemove(dir);
  }
});

Deno.test("the channel is laid out for guix pull: .guix-channel and module names match paths", async () => {
  const channelFile = await Deno.readTextFile(`${ROOT}/.guix-channel`);
  assertMatch(channelFile, /\(version 0\)/);
  assertMatch(channelFile, /\(directory "guix"\)/);
  const modules: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(`${dir}/${e.name}`);
      else if (e.name.endsWith(".scm")) modules.push(`${dir}/${e.name}`);
    }
  };
  await walk(`${ROOT}/guix`);
  assertEquals(modules.sort(), [
    `${ROOT}/guix/guix-p2p/packages.scm`,
    `${ROOT}/guix/guix-p2p/services.scm`,
  ]);
  for (const file of modules) {
    const name = file.slice(`${ROOT}/guix/`.length, -".scm".length).split("/").join(" ");
    assertStringIncludes(await Deno.readTextFile(file), `(define-module (${name})`);
  }
});

Deno.test("the package: release origin, no strip, Guix's glibc and gcc:lib, search path", async () => {
  const { value: pkg } = await channel(["package"]);
  assertEquals(pkg.name, "guix-p2p");
  assertEquals(pkg.version, VERSION);
  assertEquals(pkg.method, "url-fetch");
  assert(pkg.uri.endsWith(`/${ARTEFACT}`), pkg.uri);
  assertMatch(pkg.sha256, /^[0-9a-df-np-sv-z]{52}$/);
  assertEquals(pkg.buildSystem, "copy-build-system");
  assertEquals(pkg.arguments["strip-binaries?"], false);
  for (const input of ["glibc", "gcc:lib", "bash-minimal", "lzip", "xz", "zstd", "bzip2"]) {
    assert(pkg.inputs.includes(input), `input ${input} missing: ${pkg.inputs}`);
  }
  assertEquals(pkg.nativeInputs, ["patchelf"]);
  assertEquals(pkg.searchPaths, [{
    variable: "GUIX_EXTENSIONS_PATH",
    files: ["share/guix/extensions"],
  }]);
  assertEquals(pkg.supportedSystems, ["x86_64-linux"]);
  assertEquals(pkg.license, "gpl3+");
  assert(pkg.synopsis.length > 10 && pkg.description.length > 100);
  assertStringIncludes(
    pkg.arguments.phases,
    '(search-input-file inputs "/lib/ld-linux-x86-64.so.2")',
  );
});

Deno.test({
  name: "the package's phases turn the Deno runtime into a program that runs on Guix's loader",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "guix-p2p-phases-" });
    try {
      const released = await release(dir, DENO, "https://example.net/dl/");
      assertEquals(released.code, 0, released.stderr);
      // A stand-in store: "glibc" holds a copy of this machine's loader and
      // its libraries, "gcc-lib" libgcc_s, the others the real programs.
      const store = `${dir}/store`;
      const lib = "/lib/x86_64-linux-gnu";
      const dirs = ["glibc/lib", "gcc-lib/lib", "bash-minimal/bin", "patchelf/bin"];
      for (const d of [...dirs, "lzip/bin", "xz/bin", "zstd/bin", "bzip2/bin"]) {
        await Deno.mkdir(`${store}/${d}`, { recursive: true });
      }
      await Deno.copyFile("/lib64/ld-linux-x86-64.so.2", `${store}/glibc/lib/ld-linux-x86-64.so.2`);
      for (const l of ["libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1"]) {
        await Deno.symlink(`${lib}/${l}`, `${store}/glibc/lib/${l}`);
      }
      await Deno.symlink(`${lib}/libgcc_s.so.1`, `${store}/gcc-lib/lib/libgcc_s.so.1`);
      for (const [pkg, program] of [["bash-minimal", "bash"], ["patchelf", "patchelf"]]) {
        await Deno.symlink(`/usr/bin/${program}`, `${store}/${pkg}/bin/${program}`);
      }
      for (const program of ["lzip", "xz", "zstd", "bzip2"]) {
        await Deno.symlink(`/usr/bin/${program}`, `${store}/${program}/bin/${program}`);
      }
      const out = `${store}/out`;
      await Deno.mkdir(`${dir}/build`);
      const { log } = await channel(["build", store, out, `${dir}/dist/${ARTEFACT}`], {
        cwd: `${dir}/build`,
        env: { NIX_STORE: store },
      });
      assertStringIncludes(log, "starting phase `strip'");
      assertEquals(log.includes("stripping"), false, "the executable was stripped");
      assertStringIncludes(log, "validating RUNPATH of 1 binaries");

      const real = `${out}/bin/.guix-p2p-real`;
      const program = await run("readelf", ["-l", "-d", real]);
      assertStringIncludes(
        program.stdout,
        `[Requesting program interpreter: ${store}/glibc/lib/ld-linux-x86-64.so.2]`,
      );
      assertStringIncludes(
        program.stdout,
        `Library runpath: [${store}/glibc/lib:${store}/gcc-lib/lib]`,
      );
      const wrapper = await Deno.readTextFile(`${out}/bin/guix-p2p`);
      assert(wrapper.startsWith(`#!${store}/bash-minimal/bin/bash\n`), wrapper);
      assertStringIncludes(
        wrapper,
        `export PATH="${store}/lzip/bin:${store}/xz/bin:${store}/zstd/bin:${store}/bzip2/bin\${PATH:+:}$PATH"`,
      );
      assertEquals(await Deno.readLink(`${out}/bin/guix-p2p-substitute`), "guix-p2p");
      const extension = await Deno.readTextFile(`${out}/share/guix/extensions/substitute.scm`);
      assertStringIncludes(
        extension,
        `(define %installed-helper "${out}/bin/guix-p2p-substitute")`,
      );
      assertEquals(extension.includes("@GUIX_P2P_HELPER@"), false);

      // The patched runtime starts on the store's loader, with only the
      // wrapper's PATH for decompressors, and sees argv[0] as the name it was
      // called by (the program picks the helper role from it).
      const version = await run(`${out}/bin/guix-p2p`, ["--version"], {
        env: { PATH: "/nonexistent" },
      });
      assertEquals(version.code, 0, version.stderr);
      assertMatch(version.stdout, /^deno \d/);
      const argv0 = await run(`${out}/bin/guix-p2p-substitute`, [
        "eval",
        'const a = Deno.readTextFileSync("/proc/self/cmdline").split("\\0")[0];' +
        'console.log(a + "|" + Deno.env.get("PATH"))',
      ], { env: { PATH: "/nonexistent" } });
      assertEquals(argv0.code, 0, argv0.stderr);
      const [name, path] = argv0.stdout.trim().split("|");
      assertEquals(name, `${out}/bin/guix-p2p-substitute`);
      assertStringIncludes(path!, `${store}/lzip/bin:${store}/xz/bin:`);
    } finally {
      await forceRemove(dir);
    }
  },
});

/** The keys the daemon knows today (a field whose key is missing is not set in these tests). */
const SCHEMA = await Deno.readTextFile(`${ROOT}/src/config/schema.ts`);
const known = (key: string) => SCHEMA.includes(`key: "${key}"`);

Deno.test("the service: TOML the daemon accepts, accounts, activation, Shepherd, guix-daemon", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "guix-p2p-service-" });
  const check = async (toml: string) => {
    await Deno.writeTextFile(`${dir}/config.toml`, toml);
    return await run(LAUNCHER, ["config", "check", "--json", `${dir}/config.toml`]);
  };
  try {
    await t.step("the default configuration", async () => {
      const { value } = await channel(["service", "(guix-p2p-configuration)"]);
      assert(value.defaultIsDefault);
      const checked = await check(value.toml);
      assertEquals(checked.code, 0, checked.stderr);
      const effective = JSON.parse(checked.stdout);
      assertEquals(effective.cache_dir, "/var/cache/guix-p2p");
      assertEquals(effective.socket_path, "/run/guix-p2p/control.sock");
      assertEquals(effective.socket_group, "guix-p2p");
      assertEquals(value.etc, [{ name: "guix-p2p/config.toml", content: value.toml }]);
      assertEquals(value.profile, ["guix-p2p"]);
    });

    await t.step("every field set", async () => {
      const optional = [
        known("seed_profiles") ? '(seed-profiles (list "/run/current-system/profile"))' : "",
        known("dashboard_listen") ? '(dashboard-listen "127.0.0.1:8381")' : "",
      ].join(" ");
      const config = `(guix-p2p-configuration
        (cache-directory "/var/cache/p2p")
        (log-level "debug")
        (listen (list "/ip4/0.0.0.0/tcp/7000" "/ip6/::/tcp/7000"))
        (announce (list "/ip4/203.0.113.5/tcp/7000"))
        (bootstrap-peers (list "/ip4/192.0.2.7/tcp/6881/p2p/12D3KooWKxJzLwRpc3ZrNnnVJ4h8xMgHn3A7NvdsTKHoXmaYaAdV"))
        (mdns? #f)
        (substitute-urls (list "https://bordeaux.guix.gnu.org"))
        (policy "http-first")
        (auto-seed "all")
        (seed-paths (list "/gnu/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x"))
        (max-upload-rate "2MB/s")
        (max-download-rate 1000000)
        (max-connections 32)
        (cache-size "20GiB")
        (gateway-listen "")
        ${optional}
        (extra-toml "dht_mode = \\"server\\"\\nban_threshold = 5"))`;
      const { value } = await channel(["service", config]);
      const checked = await check(value.toml);
      assertEquals(checked.code, 0, `${checked.stderr}\n${value.toml}`);
      const c = JSON.parse(checked.stdout);
      assertEquals(c.cache_dir, "/var/cache/p2p");
      assertEquals(c.log_level, "debug");
      assertEquals(c.listen, ["/ip4/0.0.0.0/tcp/7000", "/ip6/::/tcp/7000"]);
      assertEquals(c.announce, ["/ip4/203.0.113.5/tcp/7000"]);
      assertEquals(c.bootstrap_peers.length, 1);
      assertEquals(c.mdns, false);
      assertEquals(c.policy, "http-first");
      assertEquals(c.auto_seed, "all");
      assertEquals(c.max_upload_rate, 2_000_000);
      assertEquals(c.max_download_rate, 1_000_000);
      assertEquals(c.max_connections, 32);
      assertEquals(c.cache_size, 20 * 1024 ** 3);
      assertEquals(c.gateway_listen, "");
      assertEquals(c.dht_mode, "server");
      assertEquals(c.ban_threshold, 5);
      assertStringIncludes(value.activation, '(chmod "/var/cache/p2p" 448)');
    });

    await t.step("what the daemon would refuse is reported by config check", async () => {
      const { value } = await channel([
        "service",
        '(guix-p2p-configuration (extra-toml "policy = \\"p2p-first\\"\\ncache_dir = \\"/x\\""))',
      ]);
      const checked = await check(value.toml);
      assertEquals(checked.code, 1);
      const line = value.toml.split("\n").indexOf('cache_dir = "/x"') + 1;
      assertStringIncludes(checked.stderr, `config.toml:${line}:`);
      // A wrongly typed field is refused when the operating system is evaluated.
      const typo = await run("guile", [
        "--no-auto-compile",
        "-L",
        `${ROOT}/guix`,
        "-L",
        `${ROOT}/tests/guile/modules`,
        `${ROOT}/tests/guile/channel-check.scm`,
        "service",
        '(guix-p2p-configuration (listen "/ip4/0.0.0.0/tcp/6881"))',
      ]);
      assertEquals(typo.code, 1);
      assertStringIncludes(typo.stderr, "field `listen' must be a list of strings");
    });

    await t.step("accounts, activation and the Shepherd service", async () => {
      const { value } = await channel(["service", "(guix-p2p-configuration)"]);
      assertEquals(value.accounts, [
        { kind: "group", name: "guix-p2p", system: true },
        {
          kind: "user",
          name: "guix-p2p",
          group: "guix-p2p",
          system: true,
          home: "/var/empty",
          shell: '"/gnu/store/shadow/sbin/nologin"',
        },
      ]);
      const a = value.activation as string;
      for (
        const part of [
          '(mkdir-p "/var/cache/guix-p2p") (chown "/var/cache/guix-p2p" uid gid) (chmod "/var/cache/guix-p2p" 448)',
          '(mkdir-p "/run/guix-p2p") (chown "/run/guix-p2p" uid gid) (chmod "/run/guix-p2p" 488)',
          '(system* "/gnu/store/guix-p2p/bin/guix-p2p" "config" "check" "/gnu/store/guix-p2p.toml")',
        ]
      ) assertStringIncludes(a, part);
      const s = value.shepherd;
      assertEquals(s.provision, ["guix-p2p"]);
      assertEquals(s.requirement, ["user-processes", "networking"]);
      assertEquals(s.respawn, true);
      assertStringIncludes(
        s.start,
        '(make-forkexec-constructor (list "/gnu/store/guix-p2p/bin/guix-p2p" "--daemon" "--config" "/etc/guix-p2p/config.toml") #:user "guix-p2p" #:group "guix-p2p"',
      );
      assertStringIncludes(s.start, '#:log-file "/var/log/guix-p2p.log"');
      assertEquals(s.stop, "(make-kill-destructor)");
    });

    await t.step(
      "guix-daemon's environment: an existing GUIX_EXTENSIONS_PATH is kept",
      async () => {
        const ours = "/run/current-system/profile/share/guix/extensions";
        const tail = [
          "GUIX_P2P_SOCKET=/run/guix-p2p/control.sock",
          "GUIX_P2P_CONFIG=/etc/guix-p2p/config.toml",
        ];
        const env = async (list: string[]) =>
          (await channel([
            "service",
            "(guix-p2p-configuration)",
            `'(${list.map((e) => JSON.stringify(e)).join(" ")})`,
          ])).value;
        const existing = await env(["TMPDIR=/tmp/big", "GUIX_EXTENSIONS_PATH=/opt/ext"]);
        assertEquals(existing.guixDaemonEnvironment, [
          "TMPDIR=/tmp/big",
          `GUIX_EXTENSIONS_PATH=/opt/ext:${ours}`,
          ...tail,
          "GUIX_P2P_SUBSTITUTE_ROUTING=p2p-first",
        ]);
        assertEquals(
          existing.guixDaemonEnvironmentBuiltinFirst.at(-1),
          "GUIX_P2P_SUBSTITUTE_ROUTING=builtin-first",
        );
        const none = await env([]);
        assertEquals(none.guixDaemonEnvironment, [
          `GUIX_EXTENSIONS_PATH=${ours}`,
          ...tail,
          "GUIX_P2P_SUBSTITUTE_ROUTING=p2p-first",
        ]);
        // Applying it again (e.g. twice in modify-services) changes nothing.
        const twice = await env(existing.guixDaemonEnvironment);
        assertEquals(twice.guixDaemonEnvironment, existing.guixDaemonEnvironment);
      },
    );
  } finally {
    await forceRemove(dir);
  }
});

Deno.test("foreign distributions: systemd units verify, sysusers and tmpfiles apply", async () => {
  const dir = await Deno.makeTempDir({ prefix: "guix-p2p-systemd-" });
  const systemd = `${ROOT}/guix/systemd`;
  try {
    const unit = await Deno.readTextFile(`${systemd}/guix-p2p.service`);
    const dropIn = await Deno.readTextFile(`${systemd}/guix-daemon.service.d/guix-p2p.conf`);
    const profile = "/var/guix/profiles/per-user/root/guix-profile";
    const env = Object.fromEntries(
      [...dropIn.matchAll(/^Environment=([A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]),
    );
    assertEquals(env.GUIX_EXTENSIONS_PATH, `${profile}/share/guix/extensions`);
    assertStringIncludes(
      unit,
      `ExecStart=${profile}/bin/guix-p2p --daemon --config ${env.GUIX_P2P_CONFIG}`,
    );
    assertStringIncludes(unit, "User=guix-p2p\n");
    assertStringIncludes(unit, "NoNewPrivileges=yes\n");
    assertStringIncludes(unit, "ProtectSystem=strict\n");

    // The config the units name is valid and agrees with their directories.
    const checked = await run(LAUNCHER, ["config", "check", "--json", `${systemd}/config.toml`]);
    assertEquals(checked.code, 0, checked.stderr);
    const config = JSON.parse(checked.stdout);
    assertEquals(config.socket_path, env.GUIX_P2P_SOCKET);
    assertEquals(config.socket_path, "/run/guix-p2p/control.sock");
    assertStringIncludes(unit, "RuntimeDirectory=guix-p2p\n");
    assertEquals(config.cache_dir, "/var/cache/guix-p2p");
    assertStringIncludes(unit, "CacheDirectory=guix-p2p\n");
    assertStringIncludes(unit, `ReadWritePaths=${config.cache_dir}\n`);

    // systemd-analyze verify (ExecStart must exist, so point it at the launcher).
    await Deno.mkdir(`${dir}/units/guix-daemon.service.d`, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/units/guix-p2p.service`,
      unit.replace(`${profile}/bin/guix-p2p`, LAUNCHER),
    );
    await Deno.writeTextFile(
      `${dir}/units/guix-daemon.service`,
      "[Service]\nExecStart=/bin/true\n",
    );
    const verify = (name: string) =>
      run("systemd-analyze", ["verify", `${dir}/units/${name}`], {
        env: { SYSTEMD_UNIT_PATH: `${dir}/units:` },
      });
    const daemon = await verify("guix-p2p.service");
    assertEquals([daemon.code, daemon.stderr], [0, ""]);
    await Deno.writeTextFile(`${dir}/units/guix-daemon.service.d/guix-p2p.conf`, dropIn);
    const guixDaemon = await verify("guix-daemon.service");
    assertEquals([guixDaemon.code, guixDaemon.stderr], [0, ""]);
    // The check can fail: a misspelt key in the drop-in is reported.
    await Deno.writeTextFile(
      `${dir}/units/guix-daemon.service.d/guix-p2p.conf`,
      dropIn + "Enviroment=X=1\n",
    );
    assertStringIncludes((await verify("guix-daemon.service")).stderr, "Unknown key 'Enviroment'");

    // sysusers and tmpfiles, applied to a scratch root.
    const root = `${dir}/root`;
    await Deno.mkdir(`${root}/etc`, { recursive: true });
    const users = await run("systemd-sysusers", [`--root=${root}`, `${systemd}/guix-p2p.sysusers`]);
    assertEquals(users.code, 0, users.stderr);
    const passwd = await Deno.readTextFile(`${root}/etc/passwd`);
    const entry = passwd.split("\n").find((l) => l.startsWith("guix-p2p:"))!;
    const [, , uid, gid, , home, shell] = entry.split(":");
    assertEquals([home, shell], ["/var/empty", "/usr/sbin/nologin"]);
    const tmp = await run("systemd-tmpfiles", [
      `--root=${root}`,
      "--create",
      `${systemd}/guix-p2p.tmpfiles`,
    ]);
    assertEquals(tmp.code, 0, tmp.stderr);
    for (const [path, mode] of [["var/cache/guix-p2p", 0o700], ["run/guix-p2p", 0o750]] as const) {
      const st = await Deno.stat(`${root}/${path}`);
      assertEquals([st.mode! & 0o7777, String(st.uid), String(st.gid)], [mode, uid, gid]);
    }
  } finally {
    await forceRemove(dir);
  }
});
