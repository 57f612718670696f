import { assert, assertEquals } from "@std/assert";
import { Acl, parseAcl } from "./acl.ts";
import {
  authorizeNarinfo,
  describeVerdict,
  NarinfoAuthorizer,
  type NarinfoTrust,
} from "./authorize.ts";
import { parseNixPublicKey } from "./nix_key.ts";
import { NIX_EXAMPLE, NIX_EXAMPLE_KEY, VECTOR } from "./_vectors.ts";

const GUIX_PATH = "/gnu/store/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test";
const GUIX: NarinfoTrust = { flavour: "guix", storeDir: "/gnu/store", acl: parseAcl(VECTOR.acl) };
const NIX_HASH = "zqcaz08bi11gprc39cw11q7g177csdga";
const NIX: NarinfoTrust = {
  flavour: "nix",
  storeDir: "/nix/store",
  keys: [parseNixPublicKey(NIX_EXAMPLE_KEY)],
};

Deno.test("authorize: a signed narinfo for the item, by full path or hash part, both flavours", () => {
  for (const item of [GUIX_PATH, "1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw"]) {
    const v = authorizeNarinfo(VECTOR.narinfo, item, GUIX);
    assert(v.kind === "authorized", JSON.stringify(v));
    assertEquals([v.narinfo.storePath, v.signer], [GUIX_PATH, "1F96A0…DB0E (test-host)"]);
  }
  for (const item of [`/nix/store/${NIX_HASH}-top`, NIX_HASH]) {
    const v = authorizeNarinfo(NIX_EXAMPLE, item, NIX);
    assert(v.kind === "authorized", JSON.stringify(v));
    assertEquals(v.signer, "test-1");
  }
});

Deno.test("authorize: every refusal has its kind and one reason text", () => {
  const other = authorizeNarinfo(
    VECTOR.narinfo,
    "/gnu/store/0000000000000000000000000000000a-x",
    GUIX,
  );
  assertEquals([other.kind, other.kind !== "authorized" && other.reason], [
    "other-item",
    `narinfo is for ${GUIX_PATH}, not /gnu/store/0000000000000000000000000000000a-x`,
  ]);
  // A hash part is a whole hash part: a prefix of one is another item.
  assertEquals(authorizeNarinfo(VECTOR.narinfo, "1jjbpdvbk68wgqw8", GUIX).kind, "other-item");
  const malformed = authorizeNarinfo("StorePath: nowhere\n", GUIX_PATH, GUIX);
  assert(malformed.kind === "malformed");
  assert(malformed.reason.startsWith("malformed narinfo: "), malformed.reason);
  // The Nix narinfo is not under the Guix store.
  assertEquals(authorizeNarinfo(NIX_EXAMPLE, NIX_HASH, GUIX).kind, "malformed");

  const stranger = authorizeNarinfo(VECTOR.narinfo, GUIX_PATH, {
    ...GUIX,
    acl: new Acl([]),
  });
  assert(stranger.kind === "untrusted" && stranger.flavour === "guix");
  assertEquals(
    stranger.reason,
    "unknown key: signed by key 1F96A0…DB0E (host test-host), which is not in the ACL",
  );
  const tampered = authorizeNarinfo(
    VECTOR.narinfo.replace("NarSize: ", "NarSize: 1"),
    GUIX_PATH,
    GUIX,
  );
  assert(tampered.kind === "untrusted");
  assert(
    tampered.reason.startsWith("hash mismatch: the signature covers sha256 "),
    tampered.reason,
  );
  const unsigned = authorizeNarinfo(VECTOR.signedBlock, GUIX_PATH, GUIX);
  assert(unsigned.kind === "untrusted");
  assertEquals(unsigned.reason, "unsigned: no Signature field");

  const nixStranger = authorizeNarinfo(NIX_EXAMPLE, NIX_HASH, { ...NIX, keys: [] });
  assert(nixStranger.kind === "untrusted" && nixStranger.flavour === "nix");
  assertEquals(
    nixStranger.reason,
    "unknown key: no signature by a trusted key (signed by: test-1)",
  );
  assertEquals(
    describeVerdict({ flavour: "guix", verdict: { kind: "corrupt-signature", reason: "x" } }),
    "corrupt signature: x",
  );
});

Deno.test("authorize: unauthenticated Guix substitutes skip the signature, not the item check", () => {
  const trust: NarinfoTrust = { ...GUIX, acl: new Acl([]), allowUnauthenticated: true };
  const v = authorizeNarinfo(VECTOR.signedBlock, GUIX_PATH, trust);
  assert(v.kind === "authorized");
  assertEquals(v.signer, "unauthenticated");
  assertEquals(authorizeNarinfo(VECTOR.signedBlock, `${GUIX_PATH}x`, trust).kind, "other-item");
});

Deno.test("NarinfoAuthorizer memoises verdicts per (item, text) and keeps at most `memo`", () => {
  let verifications = 0;
  const acl = parseAcl(VECTOR.acl);
  const counting = new Proxy(acl, {
    get(target, name, receiver) {
      if (name === "authorize") verifications++;
      return Reflect.get(target, name, receiver);
    },
  });
  const authorizer = new NarinfoAuthorizer({ ...GUIX, acl: counting }, { memo: 1 });
  assertEquals(authorizer.check(VECTOR.narinfo, GUIX_PATH).kind, "authorized");
  assertEquals(authorizer.check(VECTOR.narinfo, GUIX_PATH).kind, "authorized");
  assertEquals(verifications, 1);
  authorizer.check(VECTOR.narinfo, "1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw"); // evicts the first
  authorizer.check(VECTOR.narinfo, GUIX_PATH);
  assertEquals(verifications, 3);
});
