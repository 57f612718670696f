;;; Stand-in for Guix's (gnu packages bash), for tests/guix_channel_test.ts: packages
;;; that lower to a directory named after them in the test's stand-in store.
(define-module (gnu packages bash)
  #:use-module (guix packages)
  #:export (bash-minimal))

(define bash-minimal
  (package (name "bash-minimal") (version "0") (source #f) (build-system 'stand-in)
           (synopsis "") (description "") (license #f) (home-page "")))
