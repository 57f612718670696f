// Guix signatures cross-checked against the real libgcrypt (libgcrypt.so.20 via python3 ctypes):
// keys, RFC 6979 signatures, verification in both directions, the advanced printer, the parser,
// the ACL, and the `narinfo` CLI on real key files.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { base64Encode } from "../src/encoding/base64.ts";
import { hexEncode } from "../src/encoding/hex.ts";
import { sha256 } from "../src/hash/sha256.ts";
import {
  formatGuixNarinfo,
  guixSignedBlock,
  type NarinfoContent,
  parseNarinfo,
} from "../src/narinfo/mod.ts";
import {
  atom,
  findToken,
  list,
  parseSexp,
  printAdvanced,
  printCanonical,
  type Sexp,
  type SexpList,
} from "../src/sexp/mod.ts";
import {
  aclFromKeys,
  bigIntToMinimalBytes,
  ecdsaSign,
  formatAcl,
  generateGuixKey,
  parseAcl,
  parseGuixPrivateKey,
  parseGuixPublicKey,
  signGuixNarinfo,
  verifyGuixNarinfo,
} from "../src/trust/mod.ts";
import { DEFAULT_GUIX_ACL, VECTOR } from "../src/trust/_vectors.ts";
import { createNarinfoCommand, narinfoCommand } from "../src/cli/narinfo.ts";
import { recordingIo } from "./support/cli_io.ts";
import { Libgcrypt } from "./support/libgcrypt.ts";

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array) => new TextDecoder("latin1").decode(b);
const hex = (b: Uint8Array) => hexEncode(b).toUpperCase();
const randomHash = () => crypto.getRandomValues(new Uint8Array(32));

const HELLO = "1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test";
const INFO: NarinfoContent = {
  storePath: `/gnu/store/${HELLO}`,
  narHash: "sha256:0p22aw2w80cljfc2i8bgws84bqcawjp1n16fm8kvc73s172gsj2s",
  narSize: 1064,
  references: [HELLO, "47mskiwc7j6mxjg9cln8zg1hi0q5f7vq-dep-test"],
  deriver: "5wvw3cipckq1sjzajspdwya9mf6w9yi4-hello-test.drv",
  entries: [
    { url: `nar/lzip/${HELLO}`, compression: "lzip", fileSize: 700 },
    { url: `nar/zstd/${HELLO}`, compression: "zstd", fileSize: 800 },
  ],
};

/** The three parts gcry_pk_verify takes, printed from a signature s-expression. */
function verifyParts(signature: SexpList): { sig: string; data: string; key: string } {
  return {
    sig: printAdvanced(findToken(signature, "sig-val")!),
    data: printAdvanced(findToken(signature, "data")!),
    key: printAdvanced(findToken(signature, "public-key")!),
  };
}

/** A narinfo signed the way Guix does it, with libgcrypt doing the signing and printing. */
async function libgcryptSignedNarinfo(
  gcry: Libgcrypt,
  keys: { public: string; private: string },
  layout: "publish" | "old",
  host = "gcry-host",
): Promise<string> {
  const unsigned = formatGuixNarinfo({ ...INFO, signature: undefined }, layout);
  const signed = layout === "old" ? unsigned : guixSignedBlock(INFO);
  const hash = hex(sha256(signed));
  const data = `(data (flags rfc6979) (hash "sha256" #${hash}#))`;
  const { sig } = await gcry.sign(keys.private, hash);
  // guix/pki.scm signature-sexp: format "(signature ~a ~a ~a)" then string->canonical-sexp.
  const whole = await gcry.sprint(
    new TextEncoder().encode(`(signature ${data} ${sig} ${keys.public})`),
  );
  const field = `Signature: 1;${host};${base64Encode(whole.advanced)}\n`;
  return layout === "old" ? signed + field : signed + field + unsigned.slice(signed.length);
}

Deno.test({
  name: "Guix signatures agree with real libgcrypt",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  await using gcry = await Libgcrypt.start();
  assertEquals(await gcry.version(), "1.10.1");
  const keys = await Promise.all(Array.from({ length: 12 }, () => gcry.genkey()));

  await t.step("libgcrypt keys: parsed, printed back byte-exact, clamped, q = d·G", () => {
    for (const k of keys) {
      const pub = parseGuixPublicKey(k.public);
      const sec = parseGuixPrivateKey(k.private); // also checks q = d·G
      assertEquals(pub.format(), k.public);
      assertEquals(sec.format(), k.private);
      assertEquals(sec.publicKey.hex, pub.hex);
      assertEquals([sec.d >> 254n, sec.d & 7n], [1n, 0n]); // bit 255 clear, bit 254 set, bits 0–2 clear
    }
  });

  await t.step("RFC 6979: our r and s are byte-identical to libgcrypt's", async () => {
    let shortAtoms = 0;
    for (const k of keys) {
      const sec = parseGuixPrivateKey(k.private);
      for (let i = 0; i < 16; i++) {
        const hash = randomHash();
        const theirs = await gcry.sign(k.private, hex(hash));
        const ours = ecdsaSign(hash, sec.d);
        assertEquals(hex(bigIntToMinimalBytes(ours.r)), theirs.r);
        assertEquals(hex(bigIntToMinimalBytes(ours.s)), theirs.s);
        const sigVal = list(
          "sig-val",
          list(
            "ecdsa",
            list("r", bigIntToMinimalBytes(ours.r)),
            list("s", bigIntToMinimalBytes(ours.s)),
          ),
        );
        assertEquals(printAdvanced(sigVal), theirs.sig);
        if (theirs.r.length < 64 || theirs.s.length < 64) shortAtoms++;
      }
    }
    // 192 signatures: values shorter than 32 bytes (printed without padding) do occur.
    assert(shortAtoms > 0, "no r/s shorter than 32 bytes in 192 signatures");
  });

  await t.step("the §9.2 key signs identically in libgcrypt", async () => {
    const sec = parseGuixPrivateKey(
      `(private-key (ecc (curve Ed25519) (q #${VECTOR.q}#) (d #${VECTOR.d}#)))`,
    );
    const theirs = await gcry.sign(sec.format(), VECTOR.signedBlockSha256);
    assertEquals([theirs.r, theirs.s], [VECTOR.r, VECTOR.s]);
    const payload = findToken(
      parseSexp(VECTOR.narinfo.match(/Signature: 1;test-host;(.*)/)![1]!
        .replace(/.*/, (b64) => text(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))))),
      "signature",
    )!;
    const parts = verifyParts(payload);
    assert((await gcry.verify(parts.sig, parts.data, parts.key)).valid);
  });

  await t.step("libgcrypt-signed narinfos verify with ours, in both layouts", async () => {
    for (const [i, k] of keys.entries()) {
      const acl = aclFromKeys([parseGuixPublicKey(k.public)]);
      for (const layout of ["publish", "old"] as const) {
        const narinfo = await libgcryptSignedNarinfo(gcry, k, layout);
        const verdict = verifyGuixNarinfo(parseNarinfo(narinfo), acl);
        assert(verdict.kind === "valid", `key ${i} ${layout}: ${JSON.stringify(verdict)}`);
        assertEquals(verdict.host, "gcry-host");
        // Under another key's ACL: unauthorized.
        const other = aclFromKeys([parseGuixPublicKey(keys[(i + 1) % keys.length]!.public)]);
        assertEquals(verifyGuixNarinfo(parseNarinfo(narinfo), other).kind, "unauthorized-key");
      }
    }
  });

  await t.step(
    "our signed narinfos verify with libgcrypt; tampering is caught by both",
    async () => {
      for (const k of keys) {
        const sec = parseGuixPrivateKey(k.private);
        for (const layout of ["publish", "old"] as const) {
          const narinfo = parseNarinfo(signGuixNarinfo(INFO, sec, "our-host", layout));
          const field = narinfo.signature!.split(";")[2]!;
          const signature = parseSexp(Uint8Array.from(atob(field), (c) => c.charCodeAt(0)));
          const parts = verifyParts(signature);
          assertEquals(parts.key, k.public);
          assert((await gcry.verify(parts.sig, parts.data, parts.key)).valid, layout);
          assertEquals(
            findToken(signature, "hash")!.items[2],
            atom(sha256(narinfo.signedPrefix!)),
          );
          // Swapped r and s: rejected by libgcrypt and by us.
          const rs = findToken(signature, "ecdsa")!;
          const swapped = list(
            "sig-val",
            list(
              "ecdsa",
              list("r", findToken(rs, "s")!.items[1]!),
              list("s", findToken(rs, "r")!.items[1]!),
            ),
          );
          assertEquals(
            (await gcry.verify(printAdvanced(swapped), parts.data, parts.key)).valid,
            false,
          );
          // A different hash in the data: libgcrypt says bad signature.
          const otherData = `(data (flags rfc6979) (hash sha256 #${hex(randomHash())}#))`;
          assertEquals((await gcry.verify(parts.sig, otherData, parts.key)).valid, false);
        }
      }
    },
  );

  await t.step("verdict edge cases match libgcrypt's gcry_pk_verify", async () => {
    const k = keys[0]!;
    const acl = aclFromKeys([parseGuixPublicKey(k.public)]);
    const base = await libgcryptSignedNarinfo(gcry, k, "publish");
    const payload = () => {
      const b64 = parseNarinfo(base).signature!.split(";")[2]!;
      return text(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
    };
    const withPayload = (p: string) =>
      base.replace(
        /Signature: 1;gcry-host;.*/,
        `Signature: 1;gcry-host;${base64Encode(latin1(p))}`,
      );
    const edits: [string, (p: string) => string, string][] = [
      ["eddsa sig-val", (p) => p.replace("(ecdsa", "(eddsa"), "invalid-signature"],
      ["ecc sig-val", (p) => p.replace("(ecdsa", "(ecc"), "valid"],
      ["no flags", (p) => p.replace("(flags rfc6979)", ""), "invalid-signature"],
      ["leading zeros in r", (p) => p.replace("(r #", "(r #0000"), "valid"],
      ["r = 0", (p) => p.replace(/\(r [^)]*\)/, "(r #00#)"), "invalid-signature"],
      [
        "s = n",
        (p) =>
          p.replace(
            /\(s [^)]*\)/,
            "(s #1000000000000000000000000000000014DEF9DEA2F79CD65812631A5CF5D3ED#)",
          ),
        "invalid-signature",
      ],
    ];
    for (const [label, edit, expected] of edits) {
      const edited = edit(payload());
      const ours = verifyGuixNarinfo(parseNarinfo(withPayload(edited)), acl).kind;
      assertEquals(ours, expected, label);
      const parts = verifyParts(parseSexp(edited));
      const theirs = await gcry.verify(parts.sig, parts.data, parts.key);
      assertEquals(theirs.valid, expected === "valid", `${label}: libgcrypt ${theirs.error}`);
    }
    // Deliberately stricter than libgcrypt (which ignores the algorithm name here, as Guix does):
    // a hash labelled other than sha256 is a hash mismatch for us.
    const sha512 = payload().replace("sha256", "sha512");
    const parts = verifyParts(parseSexp(sha512));
    assert((await gcry.verify(parts.sig, parts.data, parts.key)).valid);
    assertEquals(verifyGuixNarinfo(parseNarinfo(withPayload(sha512)), acl).kind, "hash-mismatch");
  });

  await t.step("the advanced printer matches gcry_sexp_sprint on random trees", async () => {
    for (let i = 0; i < 400; i++) {
      const tree = randomTree(3);
      const theirs = await gcry.sprint(printCanonical(tree));
      assertEquals(printAdvanced(tree), text(theirs.advanced), text(printCanonical(tree)));
      assertEquals(printCanonical(tree), theirs.canonical);
    }
    // The empty atom (which libgcrypt cannot read back in canonical form).
    assertEquals(
      printAdvanced(parseSexp('(a "" b)')),
      text((await gcry.sprint(latin1('(a "" b)'))).advanced),
    );
  });

  await t.step("the parser reads what libgcrypt reads, to the same bytes", async () => {
    const inputs = [
      '(a "" "x\\x00y" #00FF# #41 42\n43# |YWJj| |YWI| 3:a\0b abc "a b")',
      '(a "\\b\\t\\v\\n\\f\\r\\"\\\'\\\\" "\\101\\377" "x\\\ny" "p\\\r\nq" "r\\\n\rs")',
      " \t\r\n(a (b) c (d (e f)) ())\n\f\v ",
      "(10:public-key(3:ecc(5:curve7:Ed25519)))",
      "(-./_:*+= x1 X-Y)",
      "()",
    ];
    for (const input of inputs) {
      const theirs = await gcry.sprint(latin1(input));
      assertEquals(
        printCanonical(parseSexp(latin1(input))),
        theirs.canonical,
        JSON.stringify(input),
      );
    }
    const rejectedByBoth = [
      "(a b",
      "(a))",
      "(a #4 1 4#)",
      "(a #4g#)",
      '(a "x\\qy")',
      '(a "x\\x4")',
      "(a |YW Jj|)",
      "(a 0:)",
      "(a 01:x)",
      "(a 5:ab)",
      "(a 1abc)",
      '(a "unterminated)',
    ];
    for (const input of rejectedByBoth) {
      const theirs = await gcry.trySprint(latin1(input));
      assertEquals(theirs.ok, false, `libgcrypt accepted ${JSON.stringify(input)}`);
      let threw = false;
      try {
        parseSexp(input);
      } catch {
        threw = true;
      }
      assert(threw, `we accepted ${JSON.stringify(input)}`);
    }
  });

  await t.step("ACL files: our bytes are libgcrypt's bytes", async () => {
    const acl = aclFromKeys(keys.slice(0, 3).map((k) => parseGuixPublicKey(k.public)));
    const formatted = formatAcl(acl);
    assertEquals(text((await gcry.sprint(printCanonical(acl.toSexp()))).advanced), formatted);
    assertEquals(formatAcl(parseAcl(formatted)), formatted);
    assertEquals(text((await gcry.sprint(latin1(DEFAULT_GUIX_ACL))).advanced), DEFAULT_GUIX_ACL);
    assertEquals(text((await gcry.sprint(latin1(VECTOR.acl))).advanced), VECTOR.acl);
  });
});

function randomTree(depth: number): SexpList {
  const items: Sexp[] = [];
  const n = 1 + Math.floor(Math.random() * 4);
  for (let i = 0; i < n; i++) {
    const roll = Math.random();
    if (depth > 0 && roll < 0.25) items.push(randomTree(depth - 1));
    else if (roll < 0.45) items.push(atom(randomHash())); // 32-byte binary values
    else if (roll < 0.7) {
      const len = 1 + Math.floor(Math.random() * 12);
      items.push(atom(crypto.getRandomValues(new Uint8Array(len))));
    } else {
      const alphabet = "abcXYZ019-./_:*+= \"'\\\n\t\b\x7f\xa0\xa1\xff\0";
      const len = 1 + Math.floor(Math.random() * 10);
      items.push(
        atom(latin1(
          Array.from({ length: len }, () => alphabet[Math.floor(Math.random() * alphabet.length)])
            .join(""),
        )),
      );
    }
  }
  return list(...items);
}

Deno.test({
  name: "narinfo verify/sign CLI with libgcrypt-generated key files",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  await using gcry = await Libgcrypt.start();
  const keys = await gcry.genkey();
  const dir = await Deno.makeTempDir({ prefix: "guix-p2p-trust-cli-" });
  try {
    await Deno.writeTextFile(`${dir}/signing-key.sec`, keys.private);
    await Deno.writeTextFile(
      `${dir}/acl`,
      formatAcl(aclFromKeys([parseGuixPublicKey(keys.public)])),
    );
    await Deno.writeTextFile(
      `${dir}/other-acl`,
      formatAcl(aclFromKeys([generateGuixKey().publicKey])),
    );
    const narinfo = await libgcryptSignedNarinfo(gcry, keys, "publish", "bayfront");
    await Deno.writeTextFile(`${dir}/good.narinfo`, narinfo);
    const short = parseGuixPublicKey(keys.public).shortHex;

    const run = async (args: string[], env: Record<string, string> = {}, stdin = "") => {
      const io = recordingIo({ env, stdin });
      const code = await narinfoCommand.run(args, io);
      return { code, out: io.outLines.join("\n"), err: io.errLines.join("\n") };
    };

    let r = await run(["verify", `${dir}/good.narinfo`, "--acl", `${dir}/acl`]);
    assertEquals([r.code, r.out], [0, `valid: signed by Ed25519 key ${short} (host bayfront)`]);
    // Default ACL: $GUIX_CONFIGURATION_DIRECTORY/acl.
    r = await run(["verify", `${dir}/good.narinfo`], { GUIX_CONFIGURATION_DIRECTORY: dir });
    assertEquals(r.code, 0);
    r = await run(["verify", "-", "--acl", `${dir}/acl`], {}, narinfo);
    assertEquals(r.code, 0);

    r = await run(["verify", `${dir}/good.narinfo`, "--acl", `${dir}/other-acl`]);
    assertEquals(r.code, 1);
    assertStringIncludes(
      r.err,
      `unknown key: signed by key ${short} (host bayfront), which is not in ${dir}/other-acl`,
    );

    await Deno.writeTextFile(
      `${dir}/tampered.narinfo`,
      narinfo.replace("NarSize: 1064", "NarSize: 1065"),
    );
    r = await run(["verify", `${dir}/tampered.narinfo`, "--acl", `${dir}/acl`]);
    assertEquals(r.code, 1);
    assertStringIncludes(r.err, "hash mismatch: the signature covers sha256 ");

    const swapped = narinfo.replace(/Signature: 1;bayfront;(.*)/, (_, b64: string) => {
      const p = text(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
      const r0 = /\(r (#[0-9A-F]+#)\)/.exec(p)![1]!;
      const s0 = /\(s (#[0-9A-F]+#)\)/.exec(p)![1]!;
      return `Signature: 1;bayfront;${
        base64Encode(latin1(p.replace(r0, "R").replace(s0, r0).replace("R", s0)))
      }`;
    });
    await Deno.writeTextFile(`${dir}/swapped.narinfo`, swapped);
    r = await run(["verify", `${dir}/swapped.narinfo`, "--acl", `${dir}/acl`]);
    assertEquals(r.code, 1);
    assertStringIncludes(r.err, "bad signature: ECDSA verification failed");

    await Deno.writeTextFile(
      `${dir}/bad.narinfo`,
      narinfo.replace("NarSize: 1064", "NarSize: 12x"),
    );
    r = await run(["verify", `${dir}/bad.narinfo`, "--acl", `${dir}/acl`]);
    assertEquals(r.code, 1);
    assertStringIncludes(
      r.err,
      `${dir}/bad.narinfo: narinfo line 3: NarSize: not a non-negative integer: "12x"`,
    );

    r = await run(["verify", `${dir}/missing.narinfo`, "--acl", `${dir}/acl`]);
    assertEquals(r.code, 1);
    assertStringIncludes(r.err, `${dir}/missing.narinfo: cannot read`);
    r = await run(["verify", `${dir}/good.narinfo`, "--acl", `${dir}/good.narinfo`]);
    assertEquals(r.code, 1);
    assertStringIncludes(
      r.err,
      `${dir}/good.narinfo: invalid access-control list: s-expression: byte 0`,
    );

    // sign: the output is the publish layout, verifiable by us and by libgcrypt.
    await Deno.writeTextFile(
      `${dir}/unsigned.narinfo`,
      formatGuixNarinfo({ ...INFO, signature: undefined }, "old"),
    );
    r = await run([
      "sign",
      `${dir}/unsigned.narinfo`,
      "--key",
      `${dir}/signing-key.sec`,
      "--host",
      "h1",
    ]);
    assertEquals(r.code, 0, r.err);
    const signed = parseNarinfo(r.out + "\n");
    assertEquals(signed.signedPrefix, guixSignedBlock(INFO));
    const verdict = verifyGuixNarinfo(signed, parseAcl(await Deno.readTextFile(`${dir}/acl`)));
    assert(verdict.kind === "valid" && verdict.host === "h1");
    const parts = verifyParts(
      parseSexp(Uint8Array.from(atob(signed.signature!.split(";")[2]!), (c) => c.charCodeAt(0))),
    );
    assert((await gcry.verify(parts.sig, parts.data, parts.key)).valid);
    r = await run([
      "sign",
      `${dir}/unsigned.narinfo`,
      "--key",
      `${dir}/signing-key.sec`,
      "--layout",
      "old",
      "--host",
      "h",
    ]);
    assertEquals(
      verifyGuixNarinfo(parseNarinfo(r.out + "\n"), aclFromKeys([parseGuixPublicKey(keys.public)]))
        .kind,
      "valid",
    );
    // Default host name comes from the system.
    const io = recordingIo();
    const command = createNarinfoCommand({
      files: { readFile: (p) => Deno.readFile(p) },
      hostname: () => "sys-host",
    });
    assertEquals(
      await command.run(["sign", `${dir}/unsigned.narinfo`, "--key", `${dir}/signing-key.sec`], io),
      0,
    );
    assertEquals(parseNarinfo(io.outLines.join("\n")).signature!.split(";")[1], "sys-host");

    r = await run(["sign", `${dir}/unsigned.narinfo`, "--key", `${dir}/acl`]);
    assertEquals(r.code, 1);
    assertStringIncludes(
      r.err,
      `${dir}/acl: Guix key: private key: expected a (private-key ...) list, found (acl`,
    );

    for (const args of [["--help"], ["verify", "--help"], ["sign", "--help"]]) {
      r = await run(args);
      assertEquals(r.code, 0);
      assertStringIncludes(r.out, "usage: guix-p2p narinfo");
    }
    for (
      const args of [
        ["frob"],
        ["verify"],
        ["verify", "a", "b"],
        ["verify", "a", "--bogus"],
        ["sign", "a"],
        ["sign", "a", "--key", "k", "--nix-key-file", "n"],
        ["sign", "a", "--key", "k", "--layout", "new"],
        ["verify", "a", "--nix-key", "no-colon"],
      ]
    ) {
      let message = "";
      try {
        await run(args);
      } catch (e) {
        message = `${(e as Error).name}: ${(e as Error).message}`;
      }
      assert(message.startsWith("UsageError: "), `${args.join(" ")} → ${message}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
