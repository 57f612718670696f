;;; Stand-in for Guix's (gnu packages base), for tests/guix_channel_test.ts: packages
;;; that lower to a directory named after them in the test's stand-in store.
(define-module (gnu packages base)
  #:use-module (guix packages)
  #:export (glibc))

(define glibc
  (package (name "glibc") (version "0") (source #f) (build-system 'stand-in)
           (synopsis "") (description "") (license #f) (home-page "")))
