;;; guix-p2p --- build the package from a locally built release artefact:
;;;
;;;   ./dev release --executable dist/guix-p2p --url https://example.org/x/
;;;   guix build -f guix.scm
;;;
;;; (`./dev release' also writes the artefact's hash into the package file,
;;; which this file does not need: a local file is hashed when added.)  The
;;; channel's modules are under guix/ (.guix-channel); this file is outside
;;; that directory so that `guix pull' never compiles it.

(add-to-load-path (string-append (dirname (current-filename)) "/guix"))

(use-modules (guix gexp)
             (guix packages)
             (guix-p2p packages))

(define %artefact
  (string-append (dirname (current-filename)) "/dist/guix-p2p-"
                 (package-version guix-p2p) "-x86_64-linux.tar.gz"))

(package
  (inherit guix-p2p)
  (source (local-file %artefact)))
