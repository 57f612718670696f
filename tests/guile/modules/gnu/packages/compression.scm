;;; Stand-in for Guix's (gnu packages compression), for tests/guix_channel_test.ts: packages
;;; that lower to a directory named after them in the test's stand-in store.
(define-module (gnu packages compression)
  #:use-module (guix packages)
  #:export (bzip2 lzip xz zstd))

(define bzip2
  (package (name "bzip2") (version "0") (source #f) (build-system 'stand-in)
           (synopsis "") (description "") (license #f) (home-page "")))

(define lzip
  (package (name "lzip") (version "0") (source #f) (build-system 'stand-in)
           (synopsis "") (description "") (license #f) (home-page "")))

(define xz
  (package (name "xz") (version "0") (source #f) (build-system 'stand-in)
           (synopsis "") (description "") (license #f) (home-page "")))

(define zstd
  (package (name "zstd") (version "0") (source #f) (build-system 'stand-in)
           (synopsis "") (description "") (license #f) (home-page "")))
