;;; guix-p2p --- peer-to-peer substitutes for GNU Guix
;;;
;;; This file is part of guix-p2p.
;;;
;;; guix-p2p is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by
;;; the Free Software Foundation; either version 3 of the License, or (at
;;; your option) any later version.

;;; Commentary:
;;;
;;; The guix-p2p package, built from the release artefact that `./dev
;;; release' makes: a tarball holding the single executable produced by
;;; `deno compile' (the Deno runtime with the program embedded in it), the
;;; Guix extension, the systemd units and the documentation.  Deno is not
;;; packaged in Guix, hence a prebuilt executable; docs/guix.md says why
;;; there is no from-source variant.
;;;
;;; The executable is not stripped (strip would drop the embedded program);
;;; its ELF interpreter and RUNPATH are pointed at Guix's glibc and libgcc_s
;;; with patchelf, so that 'validate-runpath' passes.  A wrapper puts the
;;; decompressors it may call on PATH; `guix-p2p-substitute' is a symlink to
;;; it (the program picks its role from argv[0], which the wrapper keeps).
;;;
;;; Code:

(define-module (guix-p2p packages)
  #:use-module (guix packages)
  #:use-module (guix gexp)
  #:use-module (guix download)
  #:use-module (guix build-system copy)
  #:use-module ((guix licenses) #:prefix license:)
  #:use-module ((gnu packages base) #:select (glibc))
  #:use-module ((gnu packages bash) #:select (bash-minimal))
  #:use-module ((gnu packages bootstrap) #:select (glibc-dynamic-linker))
  #:use-module ((gnu packages compression) #:select (bzip2 lzip xz zstd))
  #:use-module ((gnu packages elf) #:select (patchelf))
  #:use-module ((gnu packages gcc) #:select (gcc))
  #:export (guix-p2p))

;; Where the release artefacts are published.  `./dev release' rewrites this
;; line and the base32 hash below.
(define %release-url "https://example.org/guix-p2p/releases/")

(define guix-p2p
  (package
    (name "guix-p2p")
    (version "0.1.0")
    (source
     (origin
       (method url-fetch)
       (uri (string-append %release-url "guix-p2p-" version
                           "-x86_64-linux.tar.gz"))
       (sha256
        (base32 "0000000000000000000000000000000000000000000000000000"))))
    (build-system copy-build-system)
    (arguments
     (list
      ;; `deno compile' stores the program in a note section of the
      ;; executable; strip would drop it ("Could not find standalone binary
      ;; section").  Nothing else in the package is an ELF file.
      #:strip-binaries? #f
      #:install-plan
      #~'(("bin/guix-p2p" "bin/")
          ("share/" "share/"))
      #:phases
      #~(modify-phases %standard-phases
          (add-after 'install 'patch-elf
            (lambda* (#:key inputs #:allow-other-keys)
              ;; The executable asks for /lib64/ld-linux-x86-64.so.2 and
              ;; needs libc, libm, libdl, libpthread, librt, ld-linux and
              ;; libgcc_s: all in glibc's lib/ but libgcc_s (gcc:lib).
              (let ((ld.so (search-input-file inputs #$(glibc-dynamic-linker)))
                    (libgcc_s (search-input-file inputs "/lib/libgcc_s.so.1")))
                (invoke "patchelf"
                        "--set-interpreter" ld.so
                        "--set-rpath" (string-append (dirname ld.so) ":"
                                                     (dirname libgcc_s))
                        (string-append #$output "/bin/guix-p2p")))))
          (add-after 'patch-elf 'wrap-and-link
            (lambda* (#:key inputs #:allow-other-keys)
              (let ((bin (string-append #$output "/bin")))
                ;; xz, lzip and bzip2 NARs may be decoded by these programs
                ;; (config key `decompressor'); the helper runs under
                ;; guix-daemon, whose PATH has none of them.
                (wrap-program (string-append bin "/guix-p2p")
                  #:sh (search-input-file inputs "/bin/bash")
                  `("PATH" prefix
                    ,(map (lambda (program)
                            (dirname (search-input-file
                                      inputs (string-append "/bin/" program))))
                          '("lzip" "xz" "zstd" "bzip2"))))
                ;; One program, two names: the wrapper keeps argv[0].
                (symlink "guix-p2p"
                         (string-append bin "/guix-p2p-substitute")))))
          (add-after 'wrap-and-link 'point-extension-at-helper
            (lambda _
              (substitute* (string-append
                            #$output "/share/guix/extensions/substitute.scm")
                (("@GUIX_P2P_HELPER@")
                 (string-append #$output "/bin/guix-p2p-substitute"))))))))
    (native-inputs (list patchelf))
    (inputs (list bash-minimal bzip2 (list gcc "lib") glibc lzip xz zstd))
    (native-search-paths
     (list (search-path-specification
            (variable "GUIX_EXTENSIONS_PATH")
            (files '("share/guix/extensions")))))
    (supported-systems '("x86_64-linux"))
    (home-page "https://example.org/guix-p2p")
    (synopsis "Peer-to-peer substitutes for GNU Guix and Nix")
    (description
     "guix-p2p lets machines fetch substitutes from each other: peers find
who has an item through a Kademlia DHT keyed by its NarHash and move it as
verified blocks from several peers at once, falling back to the configured
HTTP substitute servers.  Every byte is checked against the NarHash of a
narinfo signed by a key in the machine's ACL.  A Guix extension shadows
@command{guix substitute}, so guix-daemon needs no patch; Nix clients use
its local binary cache gateway.")
    (license license:gpl3+)))

;;; packages.scm ends here
