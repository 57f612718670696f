;;; Stand-in for Guix's (gnu services base), for tests/guix_channel_test.ts:
;;; guix-configuration with the fields a test sets, and guix-service-type.
(define-module (gnu services base)
  #:use-module (guix records)
  #:use-module (gnu services)
  #:export (guix-configuration
            guix-configuration?
            guix-configuration-environment
            guix-configuration-substitute-urls
            guix-configuration-extra-options
            guix-service-type))

(define-record-type* <guix-configuration>
  guix-configuration make-guix-configuration
  guix-configuration?
  (substitute-urls guix-configuration-substitute-urls
                   (default '("https://bordeaux.guix.gnu.org" "https://ci.guix.gnu.org")))
  (extra-options guix-configuration-extra-options (default '()))
  (environment guix-configuration-environment (default '())))

(define guix-service-type
  (service-type (name 'guix) (extensions '()) (default-value (guix-configuration))))
