/**
 * Test vectors of ../shared/docs/guix-substitute-protocol.md §4.7, §4.9 and §9.2 and of
 * ../shared/docs/nix-binary-cache.md §3.2 and §4.1 (private to
 * the tests of this folder and tests/).
 *
 * @example
 * ```ts
 * import { VECTOR } from "./_vectors.ts";
 * VECTOR.narinfo.startsWith(VECTOR.signedBlock); // true
 * ```
 * @module
 */

const B64 =
  "KHNpZ25hdHVyZSAKIChkYXRhIAogIChmbGFncyByZmM2OTc5KQogIChoYXNoIHNoYTI1NiAjQ0Q1N0Q1QjcxNkVFMzM0MjhEQkM2RDI3QjcyOTAwQzBEMDcyODMxMzNGQTVEMDkzNEY1QzQzRjA4MUEyNjE4MSMpCiAgKQogKHNpZy12YWwgCiAgKGVjZHNhIAogICAociAjMEJEM0E5MTczQUVEM0VCODdCQTFGMjgzN0QwQzlFOUVBRUVCODE0REUzMkQzNUI0MjkzMzAxMjIwOUZGNEIyMiMpCiAgIChzICMwMUY2MEYyNzg1NDc1NDhFNUY0RUQxRjIzN0M4QUM4RUNGNEUxQzQxMkNCMEU3QTI3QjIwOTI5QTg3NTI5NDcxIykKICAgKQogICkKIChwdWJsaWMta2V5IAogIChlY2MgCiAgIChjdXJ2ZSBFZDI1NTE5KQogICAocSAjMUY5NkEwRjI2NjExNDU0MzEwRDZFNEI3RjcyMkIwNzdGRkUxQUU2MTQwQ0YyNTJEQTQyRTMzRTExNjZEREIwRSMpCiAgICkKICApCiApCg==";

const SIGNED_BLOCK = "StorePath: /gnu/store/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test\n" +
  "NarHash: sha256:0p22aw2w80cljfc2i8bgws84bqcawjp1n16fm8kvc73s172gsj2s\n" +
  "NarSize: 1064\n" +
  "References: 1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test 47mskiwc7j6mxjg9cln8zg1hi0q5f7vq-dep-test\n" +
  "Deriver: 5wvw3cipckq1sjzajspdwya9mf6w9yi4-hello-test.drv\n";

/** The §9.2 bundle. */
export const VECTOR = {
  d: "5A7DCE66E15EFD70001CE95051D830DE08E222B7F2B28C2C877E3D4278D03150",
  q: "1F96A0F26611454310D6E4B7F722B077FFE1AE6140CF252DA42E33E1166DDB0E",
  signedBlock: SIGNED_BLOCK,
  signedBlockSha256: "CD57D5B716EE33428DBC6D27B72900C0D07283133FA5D0934F5C43F081A26181",
  k: "013E598F7C2DA35F61BF03281873D5CE63BF735D6719D89BC8C0E7859543B330",
  r: "0BD3A9173AED3EB87BA1F2837D0C9E9EAEEB814DE32D35B42933012209FF4B22",
  s: "01F60F278547548E5F4ED1F237C8AC8ECF4E1C412CB0E7A27B20929A87529471",
  signatureBase64: B64,
  narinfo: SIGNED_BLOCK + `Signature: 1;test-host;${B64}\n` +
    "URL: nar/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test\n" +
    "Compression: none\n" +
    "FileSize: 1064\n",
  acl: "(acl \n" +
    " (entry \n" +
    "  (public-key \n" +
    "   (ecc \n" +
    "    (curve Ed25519)\n" +
    "    (q #1F96A0F26611454310D6E4B7F722B077FFE1AE6140CF252DA42E33E1166DDB0E#)\n" +
    "    )\n" +
    "   )\n" +
    "  (tag \n" +
    "   (guix import)\n" +
    "   )\n" +
    "  )\n" +
    " )\n",
} as const;

/** The real bayfront signature payload of §4.7 (decoded), and its key. */
export const BAYFRONT = {
  payload: "(signature \n (data \n  (flags rfc6979)\n" +
    "  (hash sha256 #0CCB14B1E6FEAB8922F5F7CEB47C4D5D97A8A1E797FB23DCDF97D2BDE808262A#)\n  )\n" +
    " (sig-val \n  (ecdsa \n" +
    "   (r #0BA6F6893B8DA8BCFB5C1496A500081235E221BBE8D1B5BA8D7595DE26F15F14#)\n" +
    "   (s #03DB9D4305AA0F477CB0382A232A71F5C2BAD8BAF10C2F5DB1C456E515209E21#)\n   )\n  )\n" +
    " (public-key \n  (ecc \n   (curve Ed25519)\n" +
    "   (q #7D602902D3A2DBB83F8A0FB98602A754C5493B0B778C8D1DD4E0F41DE14DE34F#)\n   )\n  )\n )\n",
  hash: "0CCB14B1E6FEAB8922F5F7CEB47C4D5D97A8A1E797FB23DCDF97D2BDE808262A",
  q: "7D602902D3A2DBB83F8A0FB98602A754C5493B0B778C8D1DD4E0F41DE14DE34F",
} as const;

/** The Guix System default ACL of §4.9 (berlin and bordeaux keys), byte-exact. */
export const DEFAULT_GUIX_ACL = "(acl \n" +
  " (entry \n  (public-key \n   (ecc \n    (curve Ed25519)\n" +
  "    (q #8D156F295D24B0D9A86FA5741A840FF2D24F60F7B6C4134814AD55625971B394#)\n" +
  "    )\n   )\n  (tag \n   (guix import)\n   )\n  )\n" +
  " (entry \n  (public-key \n   (ecc \n    (curve Ed25519)\n" +
  "    (q #7D602902D3A2DBB83F8A0FB98602A754C5493B0B778C8D1DD4E0F41DE14DE34F#)\n" +
  "    )\n   )\n  (tag \n   (guix import)\n   )\n  )\n" +
  " )\n";

/** ../shared/docs/nix-binary-cache.md §3.2 and §4.1: a narinfo written and signed by Nix 2.8 (key test-1). */
export const NIX_EXAMPLE = "StorePath: /nix/store/zqcaz08bi11gprc39cw11q7g177csdga-top\n" +
  "URL: nar/0q4p4lyy3ghybhw10hsx7bjxnizrk4im33fgahd6w2r0kagfp4ba.nar.xz\n" +
  "Compression: xz\n" +
  "FileHash: sha256:0q4p4lyy3ghybhw10hsx7bjxnizrk4im33fgahd6w2r0kagfp4ba\n" +
  "FileSize: 276\n" +
  "NarHash: sha256:0zx2zar1x03zckxwxwlhkspgiv3sg6x6mibriiia13bsqfg3wsrn\n" +
  "NarSize: 768\n" +
  "References: 5qn9lblnzjgza2vb23kwaclrcxnska2z-dep xglgicngsyrdq9w7r3i4gd4d12mq2x5a-tree\n" +
  "Deriver: lkhxl9jrx298xhzcimb8yvxlhnf0dgl1-top.drv\n" +
  "Sig: test-1:qD3pb7ZvCli9DW7BMWgnIGV+A8bji93b4QZYNWZ5rO6+l6fi1rslVoQZoras+xnIL2+AJIBiu5Aw0cL+G1rRCg==\n";

/** The public key of test-1, which signed {@linkcode NIX_EXAMPLE}. */
export const NIX_EXAMPLE_KEY = "test-1:VPWKW6Qrw5bsNsswfvvvc+JbHMzmCt5wI/IUUgBdKZ8=";
