/**
 * `./dev release`: builds the release artefact the Guix package is made
 * from, writes its URL and hash into guix/guix-p2p/packages.scm, and prints
 * the channel snippet (docs/guix.md, "Making a release").
 *
 * The artefact is `guix-p2p-VERSION-x86_64-linux.tar.gz`, one top-level
 * directory holding `bin/guix-p2p` (the executable `deno task compile`
 * makes), the Guix extension, the systemd units and the documentation. The
 * tarball is deterministic (sorted, owner 0, mtime 1, gzip without name), so
 * the same executable always gives the same hash. The hash is what
 * `guix hash FILE` prints: nix-base32 of the file's SHA-256.
 *
 * @example
 * ```sh
 * ./dev release --url https://example.org/guix-p2p/releases/
 * ./dev release --executable /tmp/guix-p2p --url https://example.org/dl/ --package-file /tmp/p.scm
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { parseFlags, UsageError } from "../src/std/cli.ts";
import { nix32Encode } from "../src/encoding/nix32.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

const USAGE = `usage: ./dev release --url URL [--executable FILE] [--package-file FILE]
                     [--dist DIR] [--channel-url URL]

Builds dist/guix-p2p-VERSION-x86_64-linux.tar.gz around the executable that
\`deno task compile\` makes (or FILE, an executable compiled elsewhere),
writes URL and the artefact's hash into the Guix package
(guix/guix-p2p/packages.scm), and prints the channel snippet.

--url URL          where the artefact will be published; a URL ending in /
                   gets the artefact's file name appended
--executable FILE  skip \`deno task compile\` and package FILE
--package-file F   the package file to update (default guix/guix-p2p/packages.scm)
--dist DIR         where to build the artefact (default dist/)
--channel-url URL  the channel's Git URL, for the printed snippet
`;

/** A release step that cannot go on, with the reason for the user. */
export class ReleaseError extends Error {
  /** @param message what went wrong and what to do */
  constructor(message: string) {
    super(message);
    this.name = "ReleaseError";
  }
}

/** What `writeRelease` changed. */
export interface ReleaseInfo {
  /** The artefact's absolute path. */
  artefact: string;
  /** Its published URL. */
  url: string;
  /** nix-base32 SHA-256 of the artefact (`guix hash` format). */
  sha256: string;
  /** The package version (deno.json "version"). */
  version: string;
}

/** nix-base32 of the SHA-256 of a file, streamed: what `guix hash FILE` prints. */
export async function fileHashNix32(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk);
  return nix32Encode(new Uint8Array(hash.digest()));
}

/**
 * Replaces the release URL, version and base32 hash in the package file's
 * text; each must occur exactly once.
 */
export function updatePackageText(
  text: string,
  release: { urlBase: string; version: string; sha256: string },
  file = "packages.scm",
): string {
  const edits: [RegExp, string, string][] = [
    [
      /\(define %release-url "[^"]*"\)/g,
      `(define %release-url "${release.urlBase}")`,
      "%release-url",
    ],
    [/\(version "[^"]*"\)/g, `(version "${release.version}")`, "(version …)"],
    [/\(base32 "[0-9a-z]{52}"\)/g, `(base32 "${release.sha256}")`, "(base32 …)"],
  ];
  for (const [pattern, replacement, what] of edits) {
    const count = text.match(pattern)?.length ?? 0;
    if (count !== 1) {
      throw new ReleaseError(`${file}: expected exactly one ${what}, found ${count}`);
    }
    text = text.replace(pattern, replacement);
  }
  return text;
}

async function compile(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "compile"],
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) {
    throw new ReleaseError(
      "`deno task compile` failed. It needs denort, Deno's prebuilt runtime, which it downloads " +
        "from Deno's servers (unreachable from our build machines, see " +
        "../shared/docs/platform-notes.md §4). Run it where that download works, point " +
        "DENORT_BIN at a denort binary of the same Deno version, or pass --executable FILE " +
        "with an executable compiled elsewhere.",
    );
  }
  return `${ROOT}/dist/guix-p2p`;
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else if (entry.isFile) await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

/** Lays out the artefact's tree under `stage` and packs it into `tarball`. */
async function buildArtefact(executable: string, dist: string, version: string): Promise<string> {
  const top = `guix-p2p-${version}`;
  const stage = `${dist}/${top}`;
  await Deno.remove(stage, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${stage}/bin`, { recursive: true });
  await Deno.copyFile(executable, `${stage}/bin/guix-p2p`);
  await Deno.chmod(`${stage}/bin/guix-p2p`, 0o755);
  await Deno.mkdir(`${stage}/share/guix/extensions`, { recursive: true });
  await Deno.copyFile(
    `${ROOT}/extension/substitute.scm`,
    `${stage}/share/guix/extensions/substitute.scm`,
  );
  await copyTree(`${ROOT}/guix/systemd`, `${stage}/share/guix-p2p/systemd`);
  await copyTree(`${ROOT}/docs`, `${stage}/share/doc/guix-p2p/docs`);
  await Deno.copyFile(`${ROOT}/README.md`, `${stage}/share/doc/guix-p2p/README.md`);
  const tarball = `${dist}/guix-p2p-${version}-x86_64-linux.tar.gz`;
  const tar = new Deno.Command("sh", {
    args: [
      "-c",
      'tar --sort=name --mtime=@1 --owner=0 --group=0 --numeric-owner --mode=go-w,u+w -C "$1" ' +
      '-cf - "$2" | gzip -n > "$3"',
      "sh",
      dist,
      top,
      tarball,
    ],
    stderr: "inherit",
  });
  if (!(await tar.output()).success) throw new ReleaseError(`cannot write ${tarball}`);
  await Deno.remove(stage, { recursive: true });
  return tarball;
}

/** Builds the artefact and updates the package file; returns what it wrote. */
export async function writeRelease(options: {
  url: string;
  executable?: string | undefined;
  packageFile?: string | undefined;
  dist?: string | undefined;
}): Promise<ReleaseInfo> {
  const { version } = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  const dist = options.dist ?? `${ROOT}/dist`;
  await Deno.mkdir(dist, { recursive: true });
  const executable = options.executable ?? await compile();
  await Deno.stat(executable).catch(() => {
    throw new ReleaseError(`${executable}: no such executable`);
  });
  const artefact = await buildArtefact(executable, dist, version);
  const name = artefact.slice(artefact.lastIndexOf("/") + 1);
  const urlBase = options.url.endsWith("/")
    ? options.url
    : options.url.slice(0, options.url.lastIndexOf("/") + 1);
  if (!options.url.endsWith("/") && !options.url.endsWith(`/${name}`)) {
    throw new ReleaseError(`--url must end in / or in /${name}, not ${options.url}`);
  }
  const sha256 = await fileHashNix32(artefact);
  const packageFile = options.packageFile ?? `${ROOT}/guix/guix-p2p/packages.scm`;
  const text = await Deno.readTextFile(packageFile);
  await Deno.writeTextFile(
    packageFile,
    updatePackageText(text, { urlBase, version, sha256 }, packageFile),
  );
  return { artefact, url: `${urlBase}${name}`, sha256, version };
}

/** The `channels.scm` entry users add for this repository. */
export function channelSnippet(channelUrl: string): string {
  return `(cons (channel
        (name 'guix-p2p)
        (url "${channelUrl}")
        (branch "main")
        ;; From the first signed commit that has .guix-authorizations
        ;; (docs/guix.md, "Channel authentication").
        (introduction
         (make-channel-introduction
          "COMMIT"
          (openpgp-fingerprint "FINGERPRINT"))))
      %default-channels)`;
}

async function main(args: string[]): Promise<number> {
  let values;
  try {
    values = parseFlags(args, {
      boolean: ["help"],
      string: ["url", "executable", "package-file", "dist", "channel-url"],
      positionals: false,
    }).flags;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`dev release: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.url) {
    console.error(`dev release: --url is required\n\n${USAGE}`);
    return 2;
  }
  try {
    const info = await writeRelease({
      url: values.url,
      executable: values.executable,
      packageFile: values["package-file"],
      dist: values.dist,
    });
    console.log(`artefact  ${info.artefact}`);
    console.log(`url       ${info.url}`);
    console.log(`sha256    ${info.sha256}   (guix hash ${info.artefact})`);
    console.log(`package   ${values["package-file"] ?? "guix/guix-p2p/packages.scm"} updated`);
    console.log(
      `\nPublish the artefact at the URL, commit the package file (signed), then users add` +
        ` to ~/.config/guix/channels.scm:\n\n` +
        channelSnippet(values["channel-url"] ?? "https://example.org/guix-p2p.git"),
    );
    return 0;
  } catch (e) {
    if (e instanceof ReleaseError) {
      console.error(`dev release: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
