import { assertEquals, assertThrows } from "@std/assert";
import { StorePathError } from "./errors.ts";
import { parseStorePath, storeDirFromEnv } from "./store_path.ts";

const HASH = "1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw";

Deno.test("parseStorePath splits a valid path", () => {
  const p = parseStorePath(`/gnu/store/${HASH}-hello-2.12.2`, "/gnu/store/");
  assertEquals(p, {
    storeDir: "/gnu/store",
    hashPart: HASH,
    name: "hello-2.12.2",
    baseName: `${HASH}-hello-2.12.2`,
    path: `/gnu/store/${HASH}-hello-2.12.2`,
  });
  assertEquals(parseStorePath(`/x/${HASH}-a+b_c?d=e.drv`, "/x").name, "a+b_c?d=e.drv");
});

Deno.test("parseStorePath rejects everything else, naming the value", () => {
  const bad: [string, string][] = [
    [`/nix/store/${HASH}-hello`, "not in the store directory"],
    [`/gnu/store/${HASH}-hello/bin`, 'contains "/"'],
    [`/gnu/store/${HASH}hello`, "not a store base name"],
    [`/gnu/store/${HASH}-`, "not a store base name"],
    [`/gnu/store/${HASH.replace("1", "e")}-x`, "not nix32"],
    [`/gnu/store/${HASH}-.hidden`, "invalid store name"],
    [`/gnu/store/${HASH}-a b`, "invalid store name"],
    [`/gnu/store/${HASH}-a\0b`, "invalid store name"],
    [`/gnu/store/${HASH}-${"x".repeat(230)}`, "longer than 255"],
    [`/gnu/store/../etc/${HASH}-x`, 'contains "/"'],
  ];
  for (const [path, msg] of bad) {
    assertThrows(() => parseStorePath(path, "/gnu/store"), StorePathError, msg);
  }
});

Deno.test("storeDirFromEnv honours NIX_STORE_DIR, then NIX_STORE", () => {
  const env = (vars: Record<string, string>) => ({ get: (k: string) => vars[k] });
  assertEquals(storeDirFromEnv(env({})), "/gnu/store");
  assertEquals(storeDirFromEnv(env({ NIX_STORE: "/b" })), "/b");
  assertEquals(storeDirFromEnv(env({ NIX_STORE_DIR: "/a/", NIX_STORE: "/b" })), "/a");
});
