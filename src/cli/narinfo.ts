/**
 * `guix-p2p narinfo verify FILE` and `guix-p2p narinfo sign FILE`: check a
 * narinfo's Guix signature against an ACL (or its Nix `Sig:` against trusted
 * keys), and sign narinfos with a Guix or Nix secret key.
 *
 * @example
 * ```sh
 * guix-p2p narinfo verify hello.narinfo --acl /etc/guix/acl
 * # valid: signed by Ed25519 key 7D6029…E34F (host bayfront)
 * guix-p2p narinfo sign hello.narinfo --key /etc/guix/signing-key.sec --host my-host
 * guix-p2p narinfo verify top.narinfo --nix-key test-1:VPWKW6Qrw5bsNsswfvvvc+JbHMzmCt5wI/IUUgBdKZ8=
 * ```
 * @module
 */
import { denoTrustFiles } from "../fs/deno_trust_files.ts";
import { formatNixNarinfo, type Narinfo, NarinfoError, parseNarinfo } from "../narinfo/mod.ts";
import { parseFlags, UsageError } from "../std/cli.ts";
import {
  defaultAclPath,
  describeVerdict,
  GuixSignatureError,
  loadAcl,
  loadGuixPrivateKey,
  loadNixSecretKey,
  NixKeyError,
  type NixPublicKey,
  parseNixPublicKey,
  signGuixNarinfo,
  signNixNarinfo,
  TrustFileError,
  type TrustFiles,
  verifyGuixNarinfo,
  verifyNixNarinfo,
} from "../trust/mod.ts";
import { type CliIo, type Command, pickSubcommand } from "./command.ts";

const VERIFY_USAGE =
  `usage: guix-p2p narinfo verify FILE [--acl ACLFILE] [--nix-key NAME:KEY]... [--store-dir DIR]

Check the signature of the narinfo FILE ("-" for standard input).

Without --nix-key, FILE is a Guix narinfo: its "Signature:" must be by a key of
the ACL (default $GUIX_CONFIGURATION_DIRECTORY/acl, else /etc/guix/acl) and
cover the exact text before "Signature:". With --nix-key, FILE is a Nix
narinfo: one "Sig:" must verify under one of the given trusted keys.

Prints "valid: signed by ..." and exits 0, or prints the reason (bad signature,
unknown key, malformed field at line N, ...) and exits 1.

  --acl ACLFILE        Guix ACL to trust
  --nix-key NAME:KEY   trusted Nix public key (repeatable), as in trusted-public-keys
  --store-dir DIR      require StorePath under DIR (the Nix fingerprint uses DIR too)`;

const SIGN_USAGE =
  `usage: guix-p2p narinfo sign FILE --key SECRETKEY [--host NAME] [--layout publish|old]
       guix-p2p narinfo sign FILE --nix-key-file SECRETKEYFILE [--store-dir DIR]

Print the narinfo FILE ("-" for standard input) with a fresh signature.

With --key (a Guix signing-key.sec), the output uses the "guix publish" layout:
StorePath, NarHash, NarSize, References, [Deriver], then "Signature:", then the
URL/Compression/FileSize groups (--layout old: URLs before the signature, as
older servers did). --host names the signing host (default: this host's name).

With --nix-key-file (as written by "nix key generate-secret"), the output uses
the "nix copy" layout with the new "Sig:" replacing any by the same key name.`;

const USAGE =
  `usage: guix-p2p narinfo verify FILE [--acl ACLFILE] [--nix-key NAME:KEY]... [--store-dir DIR]
       guix-p2p narinfo sign FILE --key SECRETKEY [--host NAME] [--layout publish|old]
       guix-p2p narinfo sign FILE --nix-key-file SECRETKEYFILE [--store-dir DIR]

verify  check a narinfo's Guix signature (against the ACL) or Nix Sig (against keys)
sign    print a narinfo signed with a Guix or Nix secret key

Run "guix-p2p narinfo SUBCOMMAND --help" for details.`;

/** What the `narinfo` command needs from the system (replaceable in tests). */
export interface NarinfoCommandDeps {
  /** Reads key, ACL and narinfo files. */
  files: TrustFiles;
  /** The host name written into Guix signatures by default. */
  hostname(): string;
}

/**
 * Builds the `narinfo` command over `deps` (tests pass in-memory files).
 *
 * @example
 * ```ts
 * import { createNarinfoCommand } from "./narinfo.ts";
 * const command = createNarinfoCommand({
 *   files: { readFile: (p) => Deno.readFile(p) },
 *   hostname: () => "test-host",
 * });
 * ```
 */
export function createNarinfoCommand(deps: NarinfoCommandDeps): Command {
  return {
    name: "narinfo",
    summary: "verify or sign narinfo files",
    usage: USAGE,
    async run(args: string[], io: CliIo): Promise<number> {
      const picked = pickSubcommand(args, io, {
        name: "narinfo",
        usage: USAGE,
        subcommands: { verify: VERIFY_USAGE, sign: SIGN_USAGE },
      });
      if (typeof picked === "number") return picked;
      const { sub, args: rest } = picked;
      try {
        return sub === "verify" ? await verify(rest, io, deps) : await sign(rest, io, deps);
      } catch (e) {
        if (
          e instanceof NarinfoError || e instanceof TrustFileError || e instanceof NixKeyError ||
          e instanceof GuixSignatureError
        ) {
          io.err(`guix-p2p narinfo ${sub}: ${e.message}`);
          return 1;
        }
        throw e;
      }
    },
  };
}

/** The `narinfo` command over the real file system and host name. */
export const narinfoCommand: Command = createNarinfoCommand({
  files: denoTrustFiles,
  hostname: () => Deno.hostname(),
});

async function readInput(path: string, io: CliIo, files: TrustFiles): Promise<Uint8Array> {
  if (path === "-") return new Uint8Array(await new Response(io.stdin).arrayBuffer());
  try {
    return await files.readFile(path);
  } catch (e) {
    throw new TrustFileError(path, `cannot read: ${(e as Error).message}`, { cause: e });
  }
}

async function readNarinfo(
  path: string,
  io: CliIo,
  files: TrustFiles,
  options: { flavour: "guix" | "nix"; storeDir?: string | undefined },
): Promise<Narinfo> {
  const bytes = await readInput(path, io, files);
  try {
    return parseNarinfo(bytes, {
      flavour: options.flavour,
      ...(options.storeDir === undefined ? {} : { storeDir: options.storeDir }),
    });
  } catch (e) {
    if (e instanceof NarinfoError) throw new TrustFileError(path, e.message, { cause: e });
    throw e;
  }
}

function onePositional(positionals: string[], sub: string): string {
  if (positionals.length !== 1) {
    throw new UsageError(`narinfo ${sub} takes exactly one FILE, got ${positionals.length}`);
  }
  return positionals[0]!;
}

async function verify(args: string[], io: CliIo, deps: NarinfoCommandDeps): Promise<number> {
  const { flags, positionals } = parseFlags(args, {
    string: ["acl", "store-dir"],
    collect: ["nix-key"],
  });
  const path = onePositional(positionals, "verify");
  const storeDir = flags["store-dir"];
  if (flags["nix-key"].length > 0) {
    if (flags.acl !== undefined) throw new UsageError(`--acl and --nix-key cannot be combined`);
    const keys: NixPublicKey[] = flags["nix-key"].map((k) => {
      try {
        return parseNixPublicKey(k);
      } catch (e) {
        if (e instanceof NixKeyError) throw new UsageError(`--nix-key: ${e.message}`);
        throw e;
      }
    });
    const info = await readNarinfo(path, io, deps.files, { flavour: "nix", storeDir });
    const verdict = verifyNixNarinfo(info, keys, storeDir ?? info.storeDir);
    return report(io, path, {
      ok: verdict.kind === "valid",
      text: describeVerdict({ flavour: "nix", verdict }),
    });
  }
  const aclPath = flags.acl ?? defaultAclPath(io.env);
  const info = await readNarinfo(path, io, deps.files, { flavour: "guix", storeDir });
  // One verification: a cold key is cheaper than building its window table.
  const acl = await loadAcl(aclPath, deps.files, { precompute: false });
  const verdict = verifyGuixNarinfo(info, acl);
  const result = {
    ok: verdict.kind === "valid",
    text: describeVerdict({ flavour: "guix", verdict }, aclPath),
  };
  if (!result.ok && info.signature === undefined && info.sigs.length > 0) {
    result.text += ` (it has Nix "Sig:" fields: check them with --nix-key NAME:KEY)`;
  }
  return report(io, path, result);
}

function report(io: CliIo, path: string, result: { ok: boolean; text: string }): number {
  if (result.ok) {
    io.out(result.text);
    return 0;
  }
  io.err(`guix-p2p narinfo verify: ${path}: ${result.text}`);
  return 1;
}

async function sign(args: string[], io: CliIo, deps: NarinfoCommandDeps): Promise<number> {
  const { flags, positionals } = parseFlags(args, {
    string: ["key", "host", "layout", "nix-key-file", "store-dir"],
  });
  const path = onePositional(positionals, "sign");
  const guixKey = flags.key;
  const nixKey = flags["nix-key-file"];
  if ((guixKey === undefined) === (nixKey === undefined)) {
    throw new UsageError(`narinfo sign needs exactly one of --key and --nix-key-file`);
  }
  if (nixKey !== undefined) {
    if (flags.host !== undefined || flags.layout !== undefined) {
      throw new UsageError(`--host and --layout apply to Guix signatures (--key) only`);
    }
    const storeDir = flags["store-dir"];
    const key = await loadNixSecretKey(nixKey, deps.files);
    const info = await readNarinfo(path, io, deps.files, { flavour: "nix", storeDir });
    const sig = signNixNarinfo(info, key, storeDir ?? info.storeDir);
    const sigs = [...info.sigs.filter((s) => !s.startsWith(`${key.name}:`)), sig];
    io.out(formatNixNarinfo({ ...info, sigs }).slice(0, -1));
    return 0;
  }
  const layout = flags.layout ?? "publish";
  if (layout !== "publish" && layout !== "old") {
    throw new UsageError(`--layout must be "publish" or "old", got "${layout}"`);
  }
  const key = await loadGuixPrivateKey(guixKey!, deps.files);
  const info = await readNarinfo(path, io, deps.files, {
    flavour: "guix",
    storeDir: flags["store-dir"],
  });
  const host = flags.host ?? deps.hostname();
  io.out(signGuixNarinfo(info, key, host, layout).slice(0, -1));
  return 0;
}
