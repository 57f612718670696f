;;; Stand-in for Guix's (gnu packages bootstrap), for tests/guix_channel_test.ts.
(define-module (gnu packages bootstrap)
  #:export (glibc-dynamic-linker))

(define* (glibc-dynamic-linker #:optional (system "x86_64-linux"))
  (if (string=? system "x86_64-linux")
      "/lib/ld-linux-x86-64.so.2"
      (error "glibc-dynamic-linker: the stand-in knows x86_64-linux only" system)))
