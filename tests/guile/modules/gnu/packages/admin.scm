;;; Stand-in for Guix's (gnu packages admin), for tests/guix_channel_test.ts: packages
;;; that lower to a directory named after them in the test's stand-in store.
(define-module (gnu packages admin)
  #:use-module (guix packages)
  #:export (shadow))

(define shadow
  (package (name "shadow") (version "0") (source #f) (build-system 'stand-in)
           (synopsis "") (description "") (license #f) (home-page "")))
