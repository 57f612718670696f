// Nix narinfo signatures cross-checked against the real Nix 2.8 (nix-bin): a signed file://
// cache written by `nix copy` verifies with our verifier, our signer reproduces Nix's `Sig:`
// byte for byte, our parser/serializer round-trips Nix's files, and `nix store verify` accepts
// narinfos signed by us (../shared/docs/nix-binary-cache.md §4, §6).
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { recordingIo } from "./support/cli_io.ts";
import { nixEnv } from "./support/nix.ts";
import { narinfoCommand } from "../src/cli/narinfo.ts";
import { formatNixNarinfo, type Narinfo, parseNarinfo } from "../src/narinfo/mod.ts";
import {
  generateNixSecretKey,
  nixFingerprint,
  parseNixPublicKey,
  parseNixSecretKey,
  signNixNarinfo,
  verifyNixNarinfo,
} from "../src/trust/mod.ts";

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<RunResult> {
  const out = await new Deno.Command(cmd, {
    args,
    env,
    cwd,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000), // every wait is bounded
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function must(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<string> {
  const r = await run(cmd, args, env, cwd);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

Deno.test({
  name: "Nix signatures agree with the real Nix 2.8",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const work = await Deno.makeTempDir({ prefix: "guix-p2p-trust-nix-" });
  const env = nixEnv(`${work}/xdg`);
  const nonce = crypto.randomUUID().slice(0, 8);
  let created: string[] = [];
  try {
    // --- A signed file:// cache: two nix-store --add trees and a derivation with references.
    for (const name of [`tree1-${nonce}`, `tree2-${nonce}`]) {
      await Deno.mkdir(`${work}/${name}/sub`, { recursive: true });
      await Deno.writeTextFile(`${work}/${name}/a.txt`, `hello ${name}\n`);
      await Deno.writeTextFile(`${work}/${name}/sub/run`, "#!/bin/sh\n", { mode: 0o755 });
      await Deno.symlink("a.txt", `${work}/${name}/link`);
    }
    const tree1 = await must("nix-store", ["--add", `${work}/tree1-${nonce}`], env, work);
    const tree2 = await must("nix-store", ["--add", `${work}/tree2-${nonce}`], env, work);
    await Deno.writeTextFile(
      `${work}/top.nix`,
      `let
  system = builtins.currentSystem;
  tree = builtins.path { path = ${work}/tree1-${nonce}; name = "tree1-${nonce}"; };
  dep = derivation { name = "dep-${nonce}"; inherit system; builder = "/bin/sh";
                     args = [ "-c" "echo dep > $out" ]; };
in derivation { name = "top-${nonce}"; inherit system; builder = "/bin/sh";
                PATH = "/usr/bin:/bin";
                args = [ "-c" "mkdir $out; echo \${tree} \${dep} \${dep} > $out/refs; echo $out > $out/self" ]; }
`,
    );
    const top = await must("nix-build", ["--no-out-link", `${work}/top.nix`], env, work);
    const drv = await must("nix-store", ["-qd", top], env, work);
    created = (await must("nix-store", ["-qR", "--include-outputs", drv], env, work)).split("\n");
    created.push(tree2);
    assert(created.includes(tree1), `${tree1} not in the closure of ${drv}`);
    await must("sh", ["-c", "nix key generate-secret --key-name test-1 > sk"], env, work);
    await must("sh", ["-c", "nix key convert-secret-to-public < sk > pk"], env, work);
    await must("sh", ["-c", "nix key generate-secret --key-name other-1 > osk"], env, work);
    const cacheUrl = `file://${work}/cache?compression=none&secret-key=${work}/sk`;
    await must("nix", ["copy", "--to", cacheUrl, top, tree2], env, work);

    const secret = parseNixSecretKey(await Deno.readTextFile(`${work}/sk`));
    const pub = parseNixPublicKey(await Deno.readTextFile(`${work}/pk`));
    assertEquals(secret.publicKey.format(), pub.format());
    const texts = new Map<string, string>();
    for await (const e of Deno.readDir(`${work}/cache`)) {
      if (e.name.endsWith(".narinfo")) {
        texts.set(e.name, await Deno.readTextFile(`${work}/cache/${e.name}`));
      }
    }
    assertEquals(texts.size, 4); // top, dep, tree1, tree2
    const infos = new Map<string, Narinfo>();
    for (const [name, text] of texts) {
      infos.set(name, parseNarinfo(text, { flavour: "nix", storeDir: "/nix/store" }));
    }
    const topInfo = [...infos.values()].find((i) => i.storePath === top)!;
    assertEquals(topInfo.references.length, 3, "top refers to tree1, dep and itself");

    await t.step("every narinfo written by nix copy verifies under its key", () => {
      for (const [name, info] of infos) {
        assertEquals(info.sigs.length, 1, name);
        assertEquals(verifyNixNarinfo(info, [pub]), { kind: "valid", keyName: "test-1" }, name);
      }
      // The nix-store --add trees are content-addressed; `ca` is exposed, not trusted by itself.
      const tree = [...infos.values()].find((i) => i.storePath === tree2)!;
      assert(tree.ca?.startsWith("fixed:r:sha256:"), tree.ca);
      assertEquals(verifyNixNarinfo({ ...tree, sigs: [] }, [pub]).kind, "unsigned");
    });

    await t.step("other keys: an untrusted name or a same-name impostor fails", async () => {
      const other = parseNixSecretKey(await Deno.readTextFile(`${work}/osk`)).publicKey;
      const impostor = generateNixSecretKey("test-1").publicKey;
      for (const info of infos.values()) {
        assertEquals(verifyNixNarinfo(info, [other]), {
          kind: "unauthorized-key",
          keyNames: ["test-1"],
        });
        assertEquals(verifyNixNarinfo(info, [impostor]), {
          kind: "invalid-signature",
          keyName: "test-1",
        });
      }
    });

    await t.step("each tampered fingerprint field fails", () => {
      const bump = (s: string) => s.slice(0, -1) + (s.endsWith("0") ? "1" : "0");
      for (const info of infos.values()) {
        const hashPart = info.storePath.slice("/nix/store/".length, "/nix/store/".length + 32);
        const tampered: Narinfo[] = [
          { ...info, storePath: info.storePath.replace(hashPart, bump(hashPart)) },
          { ...info, narHash: bump(info.narHash) },
          { ...info, narSize: info.narSize + 1 },
          { ...info, references: [...info.references, "03x4lblnzjgza2vb23kwaclrcxnska2z-extra"] },
        ];
        if (info.references.length > 0) {
          tampered.push({ ...info, references: info.references.slice(1) });
        }
        for (const t of tampered) {
          assertEquals(verifyNixNarinfo(t, [pub]).kind, "invalid-signature");
        }
        // Fields outside the fingerprint do not matter.
        const other: Narinfo = {
          ...info,
          deriver: undefined,
          ca: undefined,
          entries: [{ url: "nar/x.nar.zst", compression: "zstd" }],
        };
        assertEquals(verifyNixNarinfo(other, [pub]).kind, "valid");
      }
    });

    await t.step("our signer reproduces nix's Sig byte for byte", () => {
      for (const info of infos.values()) {
        assertEquals(signNixNarinfo(info, secret), info.sigs[0]);
        assert(nixFingerprint(info, "/nix/store").startsWith(`1;${info.storePath};sha256:`));
      }
    });

    await t.step("our parser and serializer round-trip nix's files", () => {
      for (const [name, text] of texts) {
        assertEquals(formatNixNarinfo(infos.get(name)!), text, name);
      }
    });

    await t.step(
      "nix store verify accepts narinfos signed by our own key, and rejects a bad one",
      async () => {
        const ours = generateNixSecretKey("ours-1");
        await Deno.mkdir(`${work}/resigned`);
        for await (const e of Deno.readDir(`${work}/cache`)) {
          const from = `${work}/cache/${e.name}`;
          const to = `${work}/resigned/${e.name}`;
          if (e.isDirectory) await must("cp", ["-r", from, to], env, work);
          else if (e.name.endsWith(".narinfo")) {
            const info = infos.get(e.name)!;
            await Deno.writeTextFile(
              to,
              formatNixNarinfo({ ...info, sigs: [signNixNarinfo(info, ours)] }),
            );
          } else await Deno.copyFile(from, to);
        }
        const verify = async (trusted: string) => {
          await Deno.remove(`${work}/xdg`, { recursive: true }).catch(() => {});
          return await run(
            "nix",
            [
              "store",
              "verify",
              "--store",
              `file://${work}/resigned`,
              "-r",
              "--sigs-needed",
              "1",
              top,
              "--option",
              "trusted-public-keys",
              trusted,
            ],
            env,
            work,
          );
        };
        const good = await verify(ours.publicKey.format());
        assertEquals(good.code, 0, good.stderr);
        const bad = await verify(pub.format());
        assertEquals(bad.code, 2, bad.stderr);
        assertStringIncludes(bad.stderr, `path '${top}' is untrusted`);
        // One flipped signature bit: Nix rejects it, and so do we.
        const topFile = [...infos.entries()].find(([, i]) => i.storePath === top)![0];
        const text = await Deno.readTextFile(`${work}/resigned/${topFile}`);
        const flipped = text.replace(
          /Sig: ours-1:(.)/,
          (_, c: string) => `Sig: ours-1:${c === "A" ? "B" : "A"}`,
        );
        await Deno.writeTextFile(`${work}/resigned/${topFile}`, flipped);
        const tamperedRun = await verify(ours.publicKey.format());
        assertEquals(tamperedRun.code, 2, tamperedRun.stderr);
        assertEquals(
          verifyNixNarinfo(parseNarinfo(flipped, { flavour: "nix" }), [ours.publicKey]).kind,
          "invalid-signature",
        );
      },
    );

    await t.step("narinfo CLI: verify with --nix-key, sign with --nix-key-file", async () => {
      const topFile = `${work}/cache/${
        [...infos.entries()].find(([, i]) => i.storePath === top)![0]
      }`;
      let io = recordingIo();
      assertEquals(await narinfoCommand.run(["verify", topFile, "--nix-key", pub.format()], io), 0);
      assertEquals(io.outLines, ["valid: signed by Nix key test-1"]);
      io = recordingIo();
      const other = parseNixSecretKey(await Deno.readTextFile(`${work}/osk`)).publicKey.format();
      assertEquals(await narinfoCommand.run(["verify", topFile, "--nix-key", other], io), 1);
      assertStringIncludes(
        io.errLines.join("\n"),
        "unknown key: no signature by a trusted key (signed by: test-1)",
      );
      io = recordingIo();
      assertEquals(
        await narinfoCommand.run([
          "verify",
          topFile,
          "--nix-key",
          pub.format(),
          "--store-dir",
          "/gnu/store",
        ], io),
        1,
      );
      assertStringIncludes(
        io.errLines.join("\n"),
        "StorePath: not in the store directory /gnu/store",
      );
      io = recordingIo();
      await Deno.writeTextFile(`${work}/empty-acl`, "(acl)\n");
      assertEquals(
        await narinfoCommand.run(["verify", topFile, "--acl", `${work}/empty-acl`], io),
        1,
      );
      assertStringIncludes(
        io.errLines.join("\n"),
        `unsigned: no Signature field (it has Nix "Sig:" fields`,
      );
      io = recordingIo();
      assertEquals(
        await narinfoCommand.run(["sign", topFile, "--nix-key-file", `${work}/sk`], io),
        0,
        io.errLines.join("\n"),
      );
      assertEquals(
        io.outLines.join("\n") + "\n",
        texts.get(topFile.slice(`${work}/cache/`.length)),
      );
      io = recordingIo();
      assertEquals(
        await narinfoCommand.run(["sign", topFile, "--nix-key-file", `${work}/osk`], io),
        0,
      );
      const both = parseNarinfo(io.outLines.join("\n") + "\n", { flavour: "nix" });
      assertEquals(both.sigs.map((s) => s.split(":")[0]), ["test-1", "other-1"]);
      io = recordingIo();
      assertEquals(
        await narinfoCommand.run(["sign", topFile, "--nix-key-file", `${work}/pk`], io),
        1,
      );
      assertStringIncludes(
        io.errLines.join("\n"),
        `${work}/pk: Nix key: secret key "test-1" is 32 bytes, expected 64`,
      );
    });
  } finally {
    if (created.length > 0) {
      const r = await run("nix-store", ["--delete", ...created], env, work);
      if (r.code !== 0) console.error(`cleanup: nix-store --delete failed: ${r.stderr}`);
    }
    await Deno.remove(work, { recursive: true });
  }
});
