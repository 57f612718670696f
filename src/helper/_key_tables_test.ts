import { assertEquals } from "@std/assert";
import { aclFromKeys, generateGuixKey } from "../trust/mod.ts";
import { HELPER_WINDOW, KeyTables, PREPARE_MAX_KEYS } from "./_key_tables.ts";

function spiedAcl() {
  const acl = aclFromKeys([generateGuixKey().publicKey, generateGuixKey().publicKey], {
    precompute: false,
  });
  const calls = acl.entries.map(() => 0);
  const windows: number[] = [];
  acl.entries.forEach((e, i) => {
    const key = e.key!;
    const real = key.precompute.bind(key);
    key.precompute = (windowSize?: number) => {
      calls[i]!++;
      windows.push(windowSize!);
      return real(windowSize);
    };
  });
  return {
    acl,
    calls,
    windows,
    signer: (i: number) => `${acl.entries[i]!.key!.shortHex} (host-${i})`,
  };
}

Deno.test("a big batch builds the signing key's table at once, and only that key's", () => {
  const { acl, calls, windows, signer } = spiedAcl();
  const tables = new KeyTables(100);
  assertEquals(tables.noteUse(acl, signer(1), 999), true);
  for (let upcoming = 998; upcoming >= 0; upcoming--) {
    assertEquals(tables.noteUse(acl, signer(1), upcoming), false);
  }
  assertEquals(calls, [0, 1]);
  assertEquals(windows, [HELPER_WINDOW]);
});

Deno.test("small batches build a table once the key was used often enough in the process", () => {
  const { acl, calls, signer } = spiedAcl();
  const tables = new KeyTables(100);
  let built = 0;
  for (let request = 0; request < 50; request++) {
    // Requests of 3 paths: 2 more checks expected after each use.
    for (let upcoming = 2; upcoming >= 0; upcoming--) {
      if (tables.noteUse(acl, signer(0), upcoming)) built = request * 3 + (3 - upcoming);
    }
  }
  assertEquals(calls, [1, 0]);
  // Use 100 is the first of request 34, whose 3 uses end at 102 ≥ 100 (request 33 ends at 99).
  assertEquals(built, 100);
});

Deno.test("signers outside the ACL (unauthenticated mode) are ignored", () => {
  const { acl, calls } = spiedAcl();
  const tables = new KeyTables(1);
  assertEquals(tables.noteUse(acl, "unauthenticated", 1000), false);
  assertEquals(tables.noteUse(acl, "ABCDEF…0000 (elsewhere)", 1000), false);
  assertEquals(calls, [0, 0]);
});

Deno.test("a big batch on a small ACL builds every key's table before any check; then no more", () => {
  const { acl, calls, windows, signer } = spiedAcl();
  const tables = new KeyTables(50);
  assertEquals(tables.prepare(acl, 49), 0); // too small a batch
  assertEquals(calls, [0, 0]);
  assertEquals(tables.prepare(acl, 150), 2);
  assertEquals(calls, [1, 1]);
  assertEquals(windows, [HELPER_WINDOW, HELPER_WINDOW]);
  assertEquals(tables.prepare(acl, 150), 0);
  assertEquals(tables.noteUse(acl, signer(0), 149), false); // already built
  assertEquals(calls, [1, 1]);
});

Deno.test("an ACL with more keys than PREPARE_MAX_KEYS gets tables only for its signers", () => {
  const acl = aclFromKeys(
    Array.from({ length: PREPARE_MAX_KEYS + 1 }, () => generateGuixKey().publicKey),
    { precompute: false },
  );
  const tables = new KeyTables(50);
  assertEquals(tables.prepare(acl, 1000), 0);
  assertEquals(tables.noteUse(acl, acl.entries[2]!.key!.shortHex, 999), true);
});
