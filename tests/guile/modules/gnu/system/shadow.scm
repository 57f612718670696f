;;; Stand-in for Guix's (gnu system shadow), for tests/guix_channel_test.ts.
(define-module (gnu system shadow)
  #:use-module (guix records)
  #:use-module (gnu services)
  #:export (user-account
            user-account?
            user-account-name
            user-account-group
            user-account-system?
            user-account-home-directory
            user-account-shell
            user-group
            user-group?
            user-group-name
            user-group-system?
            account-service-type))

(define-record-type* <user-account>
  user-account make-user-account
  user-account?
  (name user-account-name)
  (password user-account-password (default #f))
  (uid user-account-uid (default #f))
  (group user-account-group)
  (supplementary-groups user-account-supplementary-groups (default '()))
  (comment user-account-comment (default ""))
  (home-directory user-account-home-directory)
  (create-home-directory? user-account-create-home-directory? (default #t))
  (shell user-account-shell (default "/bin/sh"))
  (system? user-account-system? (default #f)))

(define-record-type* <user-group>
  user-group make-user-group
  user-group?
  (name user-group-name)
  (password user-group-password (default #f))
  (id user-group-id (default #f))
  (system? user-group-system? (default #f)))

(define account-service-type
  (service-type (name 'account) (extensions '())))
