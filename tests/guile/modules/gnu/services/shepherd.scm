;;; Stand-in for Guix's (gnu services shepherd), for tests/guix_channel_test.ts.
(define-module (gnu services shepherd)
  #:use-module (guix records)
  #:use-module (gnu services)
  #:export (shepherd-service
            shepherd-service?
            shepherd-service-documentation
            shepherd-service-provision
            shepherd-service-requirement
            shepherd-service-start
            shepherd-service-stop
            shepherd-service-respawn?
            shepherd-root-service-type))

(define-record-type* <shepherd-service>
  shepherd-service make-shepherd-service
  shepherd-service?
  (documentation shepherd-service-documentation (default "[No documentation.]"))
  (provision shepherd-service-provision)
  (requirement shepherd-service-requirement (default '()))
  (one-shot? shepherd-service-one-shot? (default #f))
  (respawn? shepherd-service-respawn? (default #t))
  (start shepherd-service-start)
  (stop shepherd-service-stop (default #f))
  (actions shepherd-service-actions (default '()))
  (auto-start? shepherd-service-auto-start? (default #t))
  (modules shepherd-service-modules (default '())))

(define shepherd-root-service-type
  (service-type (name 'shepherd-root) (extensions '())))
