;;; Stand-in for Guix's (gnu services), for tests/guix_channel_test.ts: the
;;; service-type and service-extension records with Guix's field names, and
;;; the service types the channel extends.

(define-module (gnu services)
  #:use-module (guix records)
  #:export (service-type
            service-type?
            service-type-name
            service-type-extensions
            service-type-default-value
            service-type-description
            service-extension
            service-extension?
            service-extension-target
            service-extension-compute
            service
            service?
            service-kind
            service-value
            etc-service-type
            activation-service-type
            profile-service-type))

(define-record-type* <service-type>
  service-type make-service-type
  service-type?
  (name service-type-name)
  (extensions service-type-extensions)
  (compose service-type-compose (default #f))
  (extend service-type-extend (default #f))
  (default-value service-type-default-value (default #f))
  (description service-type-description (default #f))
  (location service-type-location (default #f)))

(define-record-type* <service-extension>
  %service-extension make-service-extension
  service-extension?
  (target service-extension-target)
  (compute service-extension-compute))

(define (service-extension target compute)
  (%service-extension (target target) (compute compute)))

(define-record-type* <service>
  %service make-service
  service?
  (kind service-kind)
  (value service-value))

(define* (service type #:optional (value (service-type-default-value type)))
  (%service (kind type) (value value)))

(define etc-service-type
  (service-type (name 'etc) (extensions '())))
(define activation-service-type
  (service-type (name 'activate) (extensions '())))
(define profile-service-type
  (service-type (name 'profile) (extensions '())))
