;;; Stand-in for Guix's (guix download), for tests/guix_channel_test.ts.
(define-module (guix download)
  #:export (url-fetch))

(define* (url-fetch url hash-algo hash #:optional name #:key system guile)
  (error "url-fetch: the stand-in does not download"))
