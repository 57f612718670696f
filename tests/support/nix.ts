/**
 * Running Debian's nix-bin (Nix 2.8) in tests without a daemon, without
 * network and without touching /etc (../shared/docs/nix-binary-cache.md §6): environment-only
 * settings, a fresh XDG cache per client run (Nix caches narinfo lookups for
 * 30 days), chroot client stores.
 *
 * @module
 */

/** Environment for nix commands; `xdg` must be fresh for each client run. */
export function nixEnv(xdg: string): Record<string, string> {
  return {
    NIX_REMOTE: "",
    XDG_CACHE_HOME: xdg,
    NIX_CONFIG: [
      "experimental-features = nix-command",
      "build-users-group =",
      "sandbox = false",
      "substituters =",
      "require-sigs = true",
      "connect-timeout = 5",
    ].join("\n"),
  };
}

/** Runs a nix command; returns code and output. */
export async function nix(
  args: string[],
  options: { xdg: string; cwd?: string; signal?: AbortSignal },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, ...rest] = args;
  const out = await new Deno.Command(cmd!, {
    args: rest,
    env: nixEnv(options.xdg),
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stdout: "piped",
    stderr: "piped",
    ...(options.signal ? { signal: options.signal } : {}),
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout).trim(),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** A signed Nix cache of a small closure built in the real /nix/store. */
export interface NixFixture {
  dir: string;
  top: string;
  dep: string;
  cache: string;
  publicKey: string;
  otherPublicKey: string;
}

/**
 * Builds `top` (a random blob of `blobBytes`, default 3 MB, and a reference to
 * `dep`) and a signed file:// cache of it.
 */
export async function nixFixture(
  dir: string,
  tag: string,
  compression = "zstd",
  blobBytes = 3_000_000,
): Promise<NixFixture> {
  const xdg = `${dir}/xdg-build`;
  await Deno.writeTextFile(
    `${dir}/top.nix`,
    `let
  system = builtins.currentSystem;
  dep = derivation { name = "gp2p-${tag}-dep"; inherit system; builder = "/bin/sh"; args = [ "-c" "echo ${tag} > $out" ]; };
in derivation { name = "gp2p-${tag}-top"; inherit system; builder = "/bin/sh"; PATH = "/usr/bin:/bin";
  args = [ "-c" "mkdir $out; echo \${dep} > $out/refs; head -c ${blobBytes} /dev/urandom > $out/blob; echo ${tag} > $out/tag" ]; }
`,
  );
  const build = await nix(["nix-build", "--no-out-link", `${dir}/top.nix`], { xdg, cwd: dir });
  if (build.code !== 0) throw new Error(`nix-build: ${build.stderr}`);
  const top = build.stdout.split("\n").at(-1)!;
  const refs = await nix(["nix-store", "-q", "--references", top], { xdg });
  const dep = refs.stdout.split("\n").find((p) => p.endsWith(`-gp2p-${tag}-dep`))!;
  const keys: string[] = [];
  for (const name of ["test-1", "other-1"]) {
    const sk = await nix(["nix", "key", "generate-secret", "--key-name", name], { xdg });
    await Deno.writeTextFile(`${dir}/${name}.sec`, sk.stdout);
    const pk = await new Deno.Command("nix", {
      args: ["key", "convert-secret-to-public"],
      env: nixEnv(xdg),
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const w = pk.stdin.getWriter();
    await w.write(new TextEncoder().encode(sk.stdout));
    await w.close();
    keys.push(new TextDecoder().decode((await pk.output()).stdout).trim());
  }
  const cache = `${dir}/cache`;
  const copy = await nix(
    [
      "nix",
      "copy",
      "--to",
      `file://${cache}?compression=${compression}&secret-key=${dir}/test-1.sec`,
      top,
    ],
    { xdg },
  );
  if (copy.code !== 0) throw new Error(`nix copy: ${copy.stderr}`);
  return { dir, top, dep, cache, publicKey: keys[0]!, otherPublicKey: keys[1]! };
}
