;;; Stand-in for Guix's (gnu packages gcc), for tests/guix_channel_test.ts: packages
;;; that lower to a directory named after them in the test's stand-in store.
(define-module (gnu packages gcc)
  #:use-module (guix packages)
  #:export (gcc))

(define gcc
  (package (name "gcc") (version "0") (source #f) (build-system 'stand-in)
           (synopsis "") (description "") (license #f) (home-page "")))
