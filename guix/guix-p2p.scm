;;; guix-p2p --- peer-to-peer substitutes for GNU Guix
;;;
;;; The guix-p2p package.  Deno is not packaged in Guix, so the program is the
;;; single self-contained executable made by `deno task compile` (on a machine
;;; that can reach Deno's download server), placed at dist/guix-p2p in the
;;; source tree.  Build with:
;;;
;;;   deno task compile && guix build -f guix/guix-p2p.scm
;;;
;;; The package installs:
;;;   bin/guix-p2p                             the daemon and admin CLI
;;;   bin/guix-p2p-substitute -> guix-p2p      the substitute helper (argv[0])
;;;   share/guix/extensions/substitute.scm     the Guix extension shim
;;; and declares GUIX_EXTENSIONS_PATH as a search path, like the guix package.

(define-module (guix-p2p package)
  #:use-module (guix packages)
  #:use-module (guix gexp)
  #:use-module (guix build-system copy)
  #:use-module (guix search-paths)
  #:use-module ((guix licenses) #:prefix license:)
  #:use-module (gnu packages compression)
  #:use-module (gnu packages base)
  #:export (guix-p2p))

(define %source-root
  (dirname (dirname (current-filename))))

(define guix-p2p
  (package
    (name "guix-p2p")
    (version "0.1.0")
    (source (local-file %source-root "guix-p2p-checkout"
                        #:recursive? #t
                        #:select? (lambda (file stat)
                                    (not (string-contains file "/node_modules")))))
    (build-system copy-build-system)
    (arguments
     (list
      #:install-plan
      #~'(("dist/guix-p2p" "bin/")
          ("extension/substitute.scm" "share/guix/extensions/")
          ("docs" "share/doc/guix-p2p/")
          ("README.md" "share/doc/guix-p2p/"))
      #:phases
      #~(modify-phases %standard-phases
          (add-before 'install 'check-binary
            (lambda _
              (unless (file-exists? "dist/guix-p2p")
                (error "dist/guix-p2p is missing: run `deno task compile` first"))))
          (add-after 'install 'finish
            (lambda* (#:key inputs #:allow-other-keys)
              (let ((bin (string-append #$output "/bin"))
                    (ext (string-append #$output "/share/guix/extensions/substitute.scm")))
                (chmod (string-append bin "/guix-p2p") #o555)
                (symlink "guix-p2p" (string-append bin "/guix-p2p-substitute"))
                ;; The shim execs the installed helper.
                (substitute* ext
                  (("@GUIX_P2P_HELPER@")
                   (string-append bin "/guix-p2p-substitute")))
                ;; Decompressors used for lzip, xz and bzip2 NARs.
                (wrap-program (string-append bin "/guix-p2p")
                  `("PATH" ":" prefix
                    ,(map (lambda (name)
                            (string-append (assoc-ref inputs name) "/bin"))
                          '("lzip" "xz" "bzip2" "zstd"))))))))))
    (inputs (list lzip xz bzip2 zstd))
    (native-search-paths
     (list (search-path-specification
            (variable "GUIX_EXTENSIONS_PATH")
            (files '("share/guix/extensions")))))
    (synopsis "Peer-to-peer substitutes for GNU Guix and Nix")
    (description
     "guix-p2p lets machines fetch substitutes from each other: peers find who
has an item through a Kademlia DHT keyed by its NarHash and move it as verified
blocks from several peers at once, falling back to the configured HTTP
substitute servers.  Every byte is checked against the NarHash of a narinfo
signed by a key in the machine's ACL.  A Guix extension shadows @command{guix
substitute}, so guix-daemon needs no patch; Nix clients use its local binary
cache gateway.")
    (home-page "https://example.org/guix-p2p")
    (license license:gpl3+)))

guix-p2p
