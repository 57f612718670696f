import { assert, assertEquals, assertThrows } from "@std/assert";
import { NIX_EXAMPLE, VECTOR } from "../trust/_vectors.ts";
import {
  chooseNarinfoEntry,
  formatGuixNarinfo,
  formatNixNarinfo,
  type NarinfoEntry,
  NarinfoError,
  parseNarinfo,
  parseRecutils,
  preferredNarinfoEntries,
  resolveNarUrl,
} from "./mod.ts";

const HELLO = "1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test";

Deno.test("parses the §9.2 Guix narinfo into typed fields with its signed prefix", () => {
  const info = parseNarinfo(VECTOR.narinfo);
  assertEquals(info.storePath, `/gnu/store/${HELLO}`);
  assertEquals(info.storeDir, "/gnu/store");
  assertEquals(info.narHash, "sha256:0p22aw2w80cljfc2i8bgws84bqcawjp1n16fm8kvc73s172gsj2s");
  assertEquals(info.narHashDigest.length, 32);
  assertEquals(info.narSize, 1064);
  assertEquals(info.references, [HELLO, "47mskiwc7j6mxjg9cln8zg1hi0q5f7vq-dep-test"]);
  assertEquals(info.deriver, "5wvw3cipckq1sjzajspdwya9mf6w9yi4-hello-test.drv");
  assertEquals(info.entries, [{ url: `nar/${HELLO}`, compression: "none", fileSize: 1064 }]);
  assertEquals(info.signedPrefix, VECTOR.signedBlock);
  assert(info.signature?.startsWith("1;test-host;KHNp"));
  assertEquals(info.text, VECTOR.narinfo);
  assertEquals(info.sigs, []);
  assertEquals(formatGuixNarinfo(info), VECTOR.narinfo);
});

Deno.test("parses a Nix narinfo and writes it back in nix copy order", () => {
  const info = parseNarinfo(NIX_EXAMPLE, { flavour: "nix" });
  assertEquals(info.entries, [{
    url: "nar/0q4p4lyy3ghybhw10hsx7bjxnizrk4im33fgahd6w2r0kagfp4ba.nar.xz",
    compression: "xz",
    fileHash: "sha256:0q4p4lyy3ghybhw10hsx7bjxnizrk4im33fgahd6w2r0kagfp4ba",
    fileSize: 276,
  }]);
  assertEquals(info.sigs.length, 1);
  assertEquals(info.signature, undefined);
  assertEquals(info.signedPrefix, undefined);
  assertEquals(formatNixNarinfo(info), NIX_EXAMPLE);
  const withCa = NIX_EXAMPLE +
    "CA: fixed:r:sha256:1z6l7n2g0wkhivhqrsqzs7q0mn8a1n0jxqkv3xqwbjh7mz2h3zz0\n";
  assertEquals(formatNixNarinfo(parseNarinfo(withCa, { flavour: "nix" })), withCa);
  // Nix forms of NarHash are accepted only for Nix narinfos.
  const sri = NIX_EXAMPLE.replace(
    /NarHash: .*/,
    "NarHash: sha256-" + btoa(String.fromCharCode(...info.narHashDigest)),
  );
  assertEquals(parseNarinfo(sri, { flavour: "nix" }).narHashDigest, info.narHashDigest);
  assertThrows(() => parseNarinfo(sri), NarinfoError, "narinfo line 6: NarHash:");
  const unknown = NIX_EXAMPLE.replace(/Deriver: .*/, "Deriver: unknown-deriver");
  assertEquals(parseNarinfo(unknown, { flavour: "nix" }).deriver, undefined);
  assertThrows(() => parseNarinfo(unknown), NarinfoError, "line 9: Deriver:");
  assertThrows(() => formatNixNarinfo({ ...info, entries: [] }), NarinfoError, "exactly one URL");
});

Deno.test("recutils rules: leading blank lines, comments, continuations, end of record", () => {
  const text = "\n\n# a comment\nStorePath: /gnu/store/" + HELLO + "\nNarHash:   " +
    "sha256:0p22aw2w80cljfc2i8bgws84bqcawjp1n16fm8kvc73s172gsj2s  \nNarSize: 1064\n" +
    "References: " + HELLO + "\n+ 47mskiwc7j6mxjg9cln8zg1hi0q5f7vq-dep-test\n" +
    "X-Extra: a\n+b\n%rec: x\n\nURL: ignored\n";
  const info = parseNarinfo(text);
  assertEquals(info.references, [HELLO, "47mskiwc7j6mxjg9cln8zg1hi0q5f7vq-dep-test"]);
  assertEquals(info.entries, []);
  assertEquals(info.fields.map((f) => [f.name, f.line]), [
    ["StorePath", 4],
    ["NarHash", 5],
    ["NarSize", 6],
    ["References", 7],
    ["X-Extra", 9],
    ["%rec", 11],
  ]);
  assertEquals(info.fields[4]!.value, "a\nb");
  assertEquals(parseRecutils("A: 1\nB: 2").fields.length, 2);
  assertEquals(parseRecutils("A: 1\n\n").lineCount, 2);
});

Deno.test("URL, Compression, FileSize, FileHash are zipped by position wherever they are", () => {
  const text = VECTOR.signedBlock.replace(
    "NarHash",
    "URL: nar/lzip/x\nCompression: lzip\nFileSize: 10\nNarHash",
  ) +
    "Signature: 1;h;KGEp\nURL: https://m.example/nar/zstd/x\nCompression: zstd\nURL: file:///c/nar/x\n";
  assertEquals(parseNarinfo(text).entries, [
    { url: "nar/lzip/x", compression: "lzip", fileSize: 10 },
    { url: "https://m.example/nar/zstd/x", compression: "zstd" },
    { url: "file:///c/nar/x" },
  ]);
  // First occurrence wins for every other field; Signature: inside a value still cuts the prefix.
  const twice = VECTOR.narinfo +
    "StorePath: /gnu/store/47mskiwc7j6mxjg9cln8zg1hi0q5f7vq-dep-test\n";
  assertEquals(parseNarinfo(twice).storePath, `/gnu/store/${HELLO}`);
  const inValue = VECTOR.narinfo.replace("Deriver:", "System: Signature:x\nDeriver:");
  assertEquals(
    parseNarinfo(inValue).signedPrefix,
    VECTOR.signedBlock.slice(0, VECTOR.signedBlock.indexOf("Deriver:")) + "System: ",
  );
});

Deno.test("malformed narinfos: each error names the line and the field", () => {
  const cases: [string, string][] = [
    [
      VECTOR.narinfo.replace("NarSize: 1064", "NarSize: 12x"),
      'narinfo line 3: NarSize: not a non-negative integer: "12x"',
    ],
    [
      VECTOR.narinfo.replace("NarSize: 1064", "NarSize: -1"),
      'narinfo line 3: NarSize: not a non-negative integer: "-1"',
    ],
    [
      VECTOR.narinfo.replace("NarSize: 1064", "NarSize: 9007199254740993"),
      "narinfo line 3: NarSize: larger than 2^53 - 1",
    ],
    [
      VECTOR.narinfo.replace("FileSize: 1064", "FileSize: 1e3"),
      'narinfo line 9: FileSize: not a non-negative integer: "1e3"',
    ],
    [
      VECTOR.narinfo.replace("NarSize: 1064\n", "NarSize 1064\n"),
      'narinfo line 3: expected "Name: value"',
    ],
    [VECTOR.narinfo.replace("NarSize: 1064\n", " NarSize: 1064\n"), "narinfo line 3: expected"],
    [VECTOR.narinfo.replace("NarSize: 1064\n", "1NarSize: 1064\n"), "narinfo line 3: expected"],
    ["+ x\n" + VECTOR.narinfo, "narinfo line 1: continuation line before any field"],
    [VECTOR.narinfo.replace(/NarSize: .*\n/, ""), "narinfo: NarSize: missing mandatory field"],
    [VECTOR.narinfo.replace(/StorePath: .*\n/, ""), "narinfo: StorePath: missing mandatory field"],
    [
      VECTOR.narinfo.replace("StorePath: /gnu/store/", "StorePath: gnu/"),
      "narinfo line 1: StorePath: not an absolute path",
    ],
    [
      VECTOR.narinfo.replace("hello-test\n", "hello test\n"),
      'narinfo line 1: StorePath: invalid store name "hello test"',
    ],
    [
      VECTOR.narinfo.replace(" 47mskiwc", " ../47mskiwc"),
      "narinfo line 4: References: not a store base name",
    ],
    [
      VECTOR.narinfo.replace("-dep-test", "-dep/test"),
      "narinfo line 4: References: invalid store name",
    ],
    [
      VECTOR.narinfo.replace(
        "5wvw3cipckq1sjzajspdwya9mf6w9yi4-",
        "5wvw3cipckq1sjzajspdwya9mf6w9yi4/",
      ),
      "narinfo line 5: Deriver:",
    ],
    [
      VECTOR.narinfo.replace("sha256:0p22", "md5:0p22"),
      'narinfo line 2: NarHash: NarHash: expected "sha256:<nix32>"',
    ],
    [
      VECTOR.narinfo.replace("sha256:0p22", "sha256:0e22"),
      "narinfo line 2: NarHash: nix32: invalid character",
    ],
    [
      VECTOR.narinfo.replace("URL: nar/", "URL: ftp://x/nar/"),
      'narinfo line 7: URL: scheme "ftp" not allowed',
    ],
    [
      VECTOR.narinfo.replace("URL: nar/", "URL: javascript:nar/"),
      'narinfo line 7: URL: scheme "javascript" not allowed',
    ],
    [VECTOR.narinfo.replace(/URL: .*/, "URL:"), "narinfo line 7: URL: empty URL"],
    [
      VECTOR.narinfo.replace("Compression: none", "Compression:"),
      "narinfo line 8: Compression: empty value",
    ],
  ];
  for (const [text, message] of cases) {
    const e = assertThrows(() => parseNarinfo(text), NarinfoError, message);
    assert(e.message.startsWith(message.split(":")[0]!), e.message);
  }
  const e = assertThrows(
    () => parseNarinfo(VECTOR.narinfo.replace("NarSize: 1064", "NarSize: 12x")),
    NarinfoError,
  );
  assertEquals([e.line, e.field], [3, "NarSize"]);
  assertThrows(
    () => parseNarinfo(new Uint8Array([0x53, 0xff, 0x0a])),
    NarinfoError,
    "not valid UTF-8",
  );
  assertThrows(
    () => parseNarinfo(VECTOR.narinfo, { storeDir: "/nix/store" }),
    NarinfoError,
    "narinfo line 1: StorePath: not in the store directory /nix/store",
  );
  assertThrows(
    () =>
      parseNarinfo(VECTOR.narinfo.replace("/gnu/store/1jjb", "/gnu/store/x/1jjb"), {
        storeDir: "/gnu/store",
      }),
    NarinfoError,
    'narinfo line 1: StorePath: not directly under /gnu/store (contains "/")',
  );
});

Deno.test("serializers: publish and old Guix layouts, empty References, optional fields", () => {
  const info = {
    storePath: `/gnu/store/${HELLO}`,
    narHash: "sha256:0p22aw2w80cljfc2i8bgws84bqcawjp1n16fm8kvc73s172gsj2s",
    narSize: 1064,
    references: [],
    system: "x86_64-linux",
    deriver: "5wvw3cipckq1sjzajspdwya9mf6w9yi4-hello-test.drv",
    signature: "1;h;KGEp",
    entries: [{ url: "nar/gzip/x", compression: "gzip", fileSize: 700 }, {
      url: "nar/x",
      compression: "none",
    }],
  };
  assertEquals(
    formatGuixNarinfo(info),
    `StorePath: /gnu/store/${HELLO}\nNarHash: ${info.narHash}\nNarSize: 1064\nReferences: \n` +
      `Deriver: ${info.deriver}\nSystem: x86_64-linux\nSignature: 1;h;KGEp\n` +
      "URL: nar/gzip/x\nCompression: gzip\nFileSize: 700\nURL: nar/x\nCompression: none\n",
  );
  assertEquals(
    formatGuixNarinfo(info, "old"),
    `StorePath: /gnu/store/${HELLO}\nURL: nar/gzip/x\nCompression: gzip\nFileSize: 700\n` +
      `URL: nar/x\nCompression: none\nNarHash: ${info.narHash}\nNarSize: 1064\nReferences: \n` +
      `System: x86_64-linux\nDeriver: ${info.deriver}\nSignature: 1;h;KGEp\n`,
  );
  for (const layout of ["publish", "old"] as const) {
    const round = parseNarinfo(formatGuixNarinfo(info, layout));
    assertEquals([round.entries, round.references, round.system], [
      info.entries,
      [],
      "x86_64-linux",
    ]);
  }
  assertThrows(
    () => formatGuixNarinfo({ ...info, system: "a\nb" }),
    NarinfoError,
    "System: value contains a line break",
  );
});

Deno.test("URL choice: smallest known size, then compression; fast-decompression mode", () => {
  const e = (compression: string | undefined, fileSize?: number): NarinfoEntry => ({
    url: `nar/${compression}`,
    ...(compression === undefined ? {} : { compression }),
    ...(fileSize === undefined ? {} : { fileSize }),
  });
  const all = ["none", "gzip", "lzip", "zstd", "xz", "bzip2"];
  const order = (entries: NarinfoEntry[], fast = false, supported = all) =>
    preferredNarinfoEntries(entries, {
      supportedCompressions: supported,
      preferFastDecompression: fast,
    })
      .map((x) => x.compression);
  assertEquals(order([e("gzip", 300), e("lzip", 200), e("zstd", 250)]), ["lzip", "zstd", "gzip"]);
  assertEquals(order([e("gzip"), e("zstd", 900)]), ["zstd", "gzip"]);
  assertEquals(order([e("none"), e("gzip"), e("lzip"), e("xz")]), ["lzip", "xz", "gzip", "none"]);
  assertEquals(order([e("gzip", 300), e("lzip", 200), e("zstd", 250)], true), [
    "zstd",
    "gzip",
    "lzip",
  ]);
  assertEquals(order([e("lzip", 100), e("none", 1000), e("zstd", 300)], true), [
    "zstd",
    "none",
    "lzip",
  ]);
  assertEquals(order([e("lzip", 100), e("gzip", 500)], true), ["gzip", "lzip"]);
  // Unsupported or missing compressions are dropped; none usable → undefined.
  assertEquals(order([e("br", 1), e(undefined, 1), e("gzip", 9)]), ["gzip"]);
  assertEquals(order([e("lzip", 1), e("zstd", 9)], false, ["zstd"]), ["zstd"]);
  assertEquals(chooseNarinfoEntry([e(undefined, 1)], { supportedCompressions: all }), undefined);
  assertEquals(chooseNarinfoEntry([e("xz", 5)], { supportedCompressions: all })?.url, "nar/xz");
  assertEquals(resolveNarUrl("https://ci.guix.gnu.org", "nar/x"), "https://ci.guix.gnu.org/nar/x");
  assertEquals(resolveNarUrl("file:///srv/cache/", "nar/x"), "file:///srv/cache/nar/x");
  assertEquals(resolveNarUrl("https://a", "https://b/nar/x"), "https://b/nar/x");
});
