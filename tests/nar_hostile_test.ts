/**
 * Hostile and broken NARs, built token by token: each must be rejected by the
 * parser with a specific NarFormatError, and restoring it must leave nothing
 * behind — no partial destination, nothing created or changed next to it.
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import {
  chunked,
  dir,
  entry,
  nar,
  type NarPiece,
  raw,
  reg,
  sym,
  u64,
} from "../src/nar/_testing.ts";
import { restoreNarToPath } from "../src/fs/mod.ts";
import { NarFormatError, NarRestoreError, parseNar, type ParseNarOptions } from "../src/nar/mod.ts";

const M = "nix-archive-1";
const nested = (depth: number): NarPiece[] => {
  let node = reg("bottom");
  for (let i = 0; i < depth; i++) node = dir(entry(`d${i}`, node));
  return node;
};

interface Case {
  name: string;
  bytes: Uint8Array;
  /** Fragment of the expected message. */
  message: string;
  options?: ParseNarOptions;
}

const valid = nar(M, ...dir(entry("a", reg("x")), entry("b", sym("a"))));

const CASES: Case[] = [
  { name: "empty input", bytes: new Uint8Array(0), message: "truncated input" },
  {
    name: "wrong magic",
    bytes: nar("nix-archive-2", ...reg("x")),
    message: 'offset 0 (archive root): expected token "nix-archive-1", got "nix-archive-2"',
  },
  {
    name: "not a NAR at all",
    bytes: raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n").raw,
    message: "exceeds Number.MAX_SAFE_INTEGER",
  },
  {
    name: "unknown node type",
    bytes: nar(M, "(", "type", "fifo", ")"),
    message: 'unknown token "fifo"',
  },
  {
    name: "unknown token in a directory",
    bytes: nar(M, "(", "type", "directory", "entri", ")"),
    message: 'unknown token "entri" (expected "entry" or ")")',
  },
  {
    name: "unknown token in a regular file",
    bytes: nar(M, "(", "type", "regular", "content", "x", ")"),
    message: 'unknown token "content" (expected "contents")',
  },
  {
    name: "contents before the executable marker",
    bytes: nar(M, "(", "type", "regular", "contents", "x", "executable", "", ")"),
    message: 'expected token ")", got "executable"',
  },
  {
    name: "non-empty executable marker",
    bytes: nar(M, "(", "type", "regular", "executable", "yes", "contents", "x", ")"),
    message: 'the "executable" marker must be "", got "yes"',
  },
  {
    name: "non-zero padding in a token",
    bytes: nar(M, u64(1), raw("(\0\0\0\0\0\0\x07"), "type", "regular", "contents", "", ")"),
    message: 'offset 39 (archive root): non-zero padding byte 0x7 after token "("',
  },
  {
    name: "non-zero padding after file contents",
    bytes: nar(
      M,
      "(",
      "type",
      "regular",
      "contents",
      u64(2),
      raw(new Uint8Array([0x68, 0x69, 0, 0, 0, 0, 0, 0xff])),
      ")",
    ),
    message: "non-zero padding byte 0xff after the file contents",
  },
  {
    name: "missing padding after file contents",
    bytes: nar(M, "(", "type", "regular", "contents", u64(3), raw("hi\n"), ")"),
    message: "non-zero padding byte 0x1 after the file contents",
  },
  {
    name: "truncated inside a token",
    bytes: nar(M, "(", "type", "regular").subarray(0, 66),
    message: "offset 64 (archive root): truncated input: 6 more byte(s) needed for the node type",
  },
  {
    name: "truncated inside file contents",
    bytes: nar(M, "(", "type", "directory", "entry", "(", "name", "f", "node", ...[
      "(",
      "type",
      "regular",
      "contents",
      u64(1000),
      raw("abc"),
    ]),
    message: 'truncated input: 997 more byte(s) needed for the contents of "f"',
  },
  {
    name: "truncated before the end of a directory",
    bytes: nar(M, "(", "type", "directory", ...entry("a", reg("x"))),
    message: 'truncated input: 8 more byte(s) needed for the length of token "entry"',
  },
  {
    name: "empty entry name",
    bytes: nar(M, ...dir(entry("", reg("x")))),
    message: "entry name is empty",
  },
  {
    name: "entry name .",
    bytes: nar(M, ...dir(entry(".", reg("x")))),
    message: 'entry name "." is not allowed',
  },
  {
    name: "entry name ..",
    bytes: nar(M, ...dir(entry("..", reg("x")))),
    message: 'entry name ".." is not allowed',
  },
  {
    name: "entry name with a slash",
    bytes: nar(M, ...dir(entry("a/b", reg("x")))),
    message: 'entry name contains "/": "a/b"',
  },
  {
    name: "entry name escaping upwards",
    bytes: nar(M, ...dir(entry("../escape", reg("pwned")))),
    message: 'entry name contains "/": "../escape"',
  },
  {
    name: "entry name naming the sentinel next to DEST",
    bytes: nar(M, ...dir(entry("../sentinel/owned", reg("pwned")))),
    message: 'entry name contains "/"',
  },
  {
    name: "entry name with NUL",
    bytes: nar(M, ...dir(entry("a\0b", reg("x")))),
    message: "entry name contains a NUL byte",
  },
  {
    name: "entry name of 256 bytes",
    bytes: nar(M, ...dir(entry("n".repeat(256), reg("x")))),
    message: "the entry name is 256 bytes long, the limit is 255",
  },
  {
    name: "entry name that is not UTF-8",
    bytes: nar(M, ...dir(entry(new Uint8Array([0x61, 0xff, 0xfe]), reg("x")))),
    message: 'the entry name is not valid UTF-8: "a\u{FFFD}\u{FFFD}" (Nix and Guix accept any ' +
      "bytes here, but guix-p2p runs on Deno, whose file names are strings",
  },
  {
    name: "entries out of order",
    bytes: nar(M, ...dir(entry("b", reg("x")), entry("a", reg("y")))),
    message: 'entry "a" is not strictly after the previous entry "b"',
  },
  {
    name: "entries in UTF-16 order instead of byte order",
    bytes: nar(M, ...dir(entry("\u{1F600}", reg("x")), entry("\u{E000}", reg("y")))),
    message: "is not strictly after the previous entry",
  },
  {
    name: "duplicate entries",
    bytes: nar(M, ...dir(entry("a", reg("x")), entry("a", reg("y")))),
    message: 'entry "a" is not strictly after the previous entry "a"',
  },
  {
    name: "a symlink followed by a directory of the same name (write through it)",
    bytes: nar(
      M,
      ...dir(entry("a", sym("../sentinel")), entry("a", dir(entry("owned", reg("pwned"))))),
    ),
    message: 'entry "a" is not strictly after the previous entry "a"',
  },
  {
    name: "empty symlink target",
    bytes: nar(M, ...sym("")),
    message: "the symlink target is empty",
  },
  {
    name: "symlink target of 4096 bytes",
    bytes: nar(M, ...sym("t".repeat(4096))),
    message: "the symlink target is 4096 bytes long, the limit is 4095",
  },
  {
    name: "symlink target with NUL",
    bytes: nar(M, ...sym("/etc\0/passwd")),
    message: "the symlink target contains a NUL byte",
  },
  {
    name: "symlink target that is not UTF-8",
    bytes: nar(M, ...sym(new Uint8Array([0x2f, 0xc3]))),
    message: 'the symlink target is not valid UTF-8: "/\u{FFFD}" (Nix and Guix accept any bytes ' +
      "here, but guix-p2p runs on Deno",
  },
  {
    name: "nesting beyond the default limit of 256",
    bytes: nar(M, ...nested(257)),
    message: "nesting deeper than 256 levels",
  },
  {
    name: "nesting beyond a configured limit",
    bytes: nar(M, ...nested(5)),
    message: "nesting deeper than 3 levels",
    options: { maxDepth: 3 },
  },
  {
    name: "absurd entry name length",
    bytes: nar(M, "(", "type", "directory", "entry", "(", "name", u64(2 ** 40)),
    message: "the entry name is 1099511627776 bytes long, the limit is 255",
  },
  {
    name: "absurd token length",
    bytes: nar(M, "(", u64(2 ** 33)),
    message: 'expected token "type", got a string of 8589934592 bytes',
  },
  {
    name: "absurd symlink target length",
    bytes: nar(M, "(", "type", "symlink", "target", u64(2 ** 52)),
    message: "the symlink target is 4503599627370496 bytes long",
  },
  {
    name: "file size beyond Number.MAX_SAFE_INTEGER",
    bytes: nar(M, "(", "type", "regular", "contents", u64(2n ** 60n)),
    message: "the file size 1152921504606846976 exceeds Number.MAX_SAFE_INTEGER",
  },
  {
    name: "file size beyond the expected NarSize",
    bytes: nar(M, "(", "type", "regular", "contents", u64(2 ** 40)),
    message: "file size 1099511627776 does not fit in the expected NAR size of 4096 bytes",
    options: { maxSize: 4096 },
  },
  {
    name: "input longer than the expected NarSize",
    bytes: valid,
    message: `the NAR is longer than the expected size of ${valid.length - 8} bytes`,
    options: { maxSize: valid.length - 8 },
  },
  {
    name: "trailing garbage after the root node",
    bytes: nar(M, ...reg("x"), "("),
    message: "trailing data after the end of the archive",
  },
  {
    name: "a single trailing zero byte",
    bytes: new Uint8Array([...nar(M, ...dir(entry("a", reg("x")))), 0]),
    message: "trailing data after the end of the archive",
  },
];

async function parseAll(input: Iterable<Uint8Array>, options?: ParseNarOptions): Promise<void> {
  for await (const e of parseNar(input, options)) {
    if (e.kind === "regular") { for await (const _ of e.contents); }
  }
}

Deno.test("hostile NARs: the valid baseline parses", async () => {
  await parseAll([valid]);
  await parseAll([nar(M, ...nested(256))]);
});

for (const c of CASES) {
  Deno.test(`hostile NARs: ${c.name} is rejected by the parser`, async () => {
    for (const size of [c.bytes.length || 1, 7]) {
      const e = await assertRejects(
        () => parseAll(chunked(c.bytes, size), c.options),
        NarFormatError,
        c.message,
      );
      assert(e.message.startsWith("invalid NAR at offset "), e.message);
    }
  });
}

/** A scratch directory holding a sentinel directory next to where DEST will go. */
async function arena(): Promise<{ root: string; dest: string; snapshot: () => Promise<string[]> }> {
  const root = await Deno.makeTempDir({ prefix: "nar-hostile-" });
  await Deno.mkdir(`${root}/sentinel`);
  await Deno.writeTextFile(`${root}/sentinel/keep`, "untouched");
  const snapshot = async () => {
    const out: string[] = [];
    const walk = async (path: string, rel: string) => {
      for await (const e of Deno.readDir(path)) {
        const st = await Deno.lstat(`${path}/${e.name}`);
        out.push(`${rel}${e.name} ${st.mode?.toString(8)} ${st.size} ${st.mtime?.getTime()}`);
        if (e.isDirectory) await walk(`${path}/${e.name}`, `${rel}${e.name}/`);
      }
    };
    await walk(root, "");
    return out.sort();
  };
  return { root, dest: `${root}/dest`, snapshot };
}

Deno.test("hostile NARs: restoring any of them leaves nothing behind", async () => {
  const { root, dest, snapshot } = await arena();
  try {
    const before = await snapshot();
    for (const c of CASES) {
      for (const size of [c.bytes.length || 1, 5]) {
        await assertRejects(
          () => restoreNarToPath(chunked(c.bytes, size), dest, c.options),
          NarFormatError,
          c.message,
        );
        assertEquals(await snapshot(), before, `after "${c.name}"`);
        assertEquals(await Deno.readTextFile(`${root}/sentinel/keep`), "untouched");
      }
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("hostile NARs: a NAR cut in the middle of a large file is cleaned up", async () => {
  const { root, dest, snapshot } = await arena();
  try {
    const before = await snapshot();
    const big = new Uint8Array(24 << 20).fill(0x5a);
    const whole = nar(M, ...dir(entry("a", dir(entry("big", reg(big)))), entry("z", reg("later"))));
    const cut = whole.subarray(0, whole.length / 2);
    const stream = new Blob([cut.slice()]).stream();
    await assertRejects(
      () => restoreNarToPath(stream, dest),
      NarFormatError,
      'needed for the contents of "a/big"',
    );
    assertEquals(await snapshot(), before);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("hostile NARs: an existing destination is refused and left untouched", async () => {
  const { root, snapshot } = await arena();
  try {
    const before = await snapshot();
    for (const bytes of [valid, nar(M, ...reg("x")), nar(M, ...sym("/"))]) {
      await assertRejects(
        () => restoreNarToPath([bytes], `${root}/sentinel`),
        NarRestoreError,
        "the destination already exists",
      );
      assertEquals(await snapshot(), before);
    }
    // A dangling symlink at DEST is "existing" too: nothing is written through it.
    await Deno.symlink(`${root}/sentinel/through-link`, `${root}/link`);
    const withLink = await snapshot();
    for (const bytes of [valid, nar(M, ...reg("x"))]) {
      await assertRejects(
        () => restoreNarToPath([bytes], `${root}/link`),
        NarRestoreError,
        "exists",
      );
      assertEquals(await snapshot(), withLink);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("hostile NARs: an abort in the middle removes the partial tree", async () => {
  const { root, dest, snapshot } = await arena();
  try {
    const before = await snapshot();
    const bytes = nar(M, ...dir(entry("a", dir(entry("f", reg("x")))), entry("b", reg("y"))));
    const controller = new AbortController();
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= bytes.length / 2) {
          controller.abort(new Error("operator cancelled"));
          return;
        }
        c.enqueue(bytes.subarray(sent, sent + 16));
        sent += 16;
      },
    });
    await assertRejects(
      () => restoreNarToPath(stream, dest, { signal: controller.signal }),
      Error,
      "operator cancelled",
    );
    assertEquals(await snapshot(), before);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name: "hostile NARs: cleanup of finished 0555 directories works without root",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "nar-nonroot-" });
    try {
      await Deno.chmod(root, 0o777);
      // Finished (0555) directories first, then a broken entry.
      const bytes = nar(
        M,
        ...dir(
          entry("a", dir(entry("b", dir(entry("f", reg("x")))))),
          entry("c", ["(", "type", "fifo"]),
        ),
      );
      await Deno.writeFile(`${root}/bad.nar`, bytes);
      await Deno.chmod(`${root}/bad.nar`, 0o644);
      // The checkout may sit under a 0700 directory (a `mktemp -d` clone):
      // give the unprivileged child its own readable copy of the sources.
      const src = new URL("../src", import.meta.url).pathname;
      for (
        const [cmd, ...args] of [["cp", "-r", src, `${root}/src`], [
          "chmod",
          "-R",
          "a+rX",
          `${root}/src`,
        ]]
      ) {
        const done = await new Deno.Command(cmd!, { args }).output();
        assertEquals(done.success, true, `${cmd} failed: ${new TextDecoder().decode(done.stderr)}`);
      }
      const script = `file://${root}/src/fs/mod.ts`;
      const code = `
        import { restoreNarToPath } from ${JSON.stringify(script)};
        console.log("uid " + Deno.uid());
        const f = await Deno.open(Deno.args[0]);
        try {
          await restoreNarToPath(f.readable, Deno.args[1]);
          console.log("restored?!");
        } catch (e) {
          console.log(e.name + ": " + e.message);
        }
        try { Deno.lstatSync(Deno.args[1]); console.log("DEST LEFT BEHIND"); } catch { console.log("clean"); }
      `;
      const asNobody = Deno.uid() === 0
        ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        : [];
      const out = await new Deno.Command(asNobody[0] ?? Deno.execPath(), {
        args: [
          ...asNobody.slice(1),
          ...(asNobody.length ? [Deno.execPath()] : []),
          "eval",
          code,
          `${root}/bad.nar`,
          `${root}/dest`,
        ],
        env: { DENO_DIR: `${root}/deno-dir`, HOME: root, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assertEquals(out.success, true, new TextDecoder().decode(out.stderr));
      assertEquals(text.trim().split("\n"), [
        `uid ${Deno.uid() === 0 ? 65534 : Deno.uid()}`,
        `NarFormatError: invalid NAR at offset ${bytes.length - 48} (entry "c"): ` +
        'unknown token "fifo" (expected "regular", "symlink" or "directory")',
        "clean",
      ]);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
