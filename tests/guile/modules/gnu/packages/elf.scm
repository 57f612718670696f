;;; Stand-in for Guix's (gnu packages elf), for tests/guix_channel_test.ts: packages
;;; that lower to a directory named after them in the test's stand-in store.
(define-module (gnu packages elf)
  #:use-module (guix packages)
  #:export (patchelf))

(define patchelf
  (package (name "patchelf") (version "0") (source #f) (build-system 'stand-in)
           (synopsis "") (description "") (license #f) (home-page "")))
