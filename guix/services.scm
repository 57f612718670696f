;;; guix-p2p --- peer-to-peer substitutes for GNU Guix
;;;
;;; The Guix System service.  Typical use in an operating-system declaration:
;;;
;;;   (use-modules (guix-p2p services))
;;;   (operating-system
;;;     ...
;;;     (services
;;;      (cons (service guix-p2p-service-type)
;;;            (modify-services %base-services
;;;              (guix-service-type config =>
;;;                (guix-p2p-guix-configuration config))))))
;;;
;;; The daemon runs as the unprivileged user guix-p2p; its control socket is
;;; mode 0660, group guix-p2p (root, i.e. the substitute helper run by
;;; guix-daemon, can always connect; add administrators to the group).

(define-module (guix-p2p services)
  #:use-module (gnu services)
  #:use-module (gnu services base)
  #:use-module (gnu services shepherd)
  #:use-module (gnu system shadow)
  #:use-module (gnu packages admin)
  #:use-module (guix gexp)
  #:use-module (guix records)
  #:use-module (guix-p2p package)
  #:use-module (srfi srfi-1)
  #:export (guix-p2p-configuration
            guix-p2p-configuration?
            guix-p2p-service-type
            guix-p2p-guix-configuration))

(define-record-type* <guix-p2p-configuration>
  guix-p2p-configuration make-guix-p2p-configuration
  guix-p2p-configuration?
  (package         guix-p2p-configuration-package
                   (default guix-p2p))
  (config          guix-p2p-configuration-config      ;string (TOML) or file-like
                   (default ""))
  (cache-directory guix-p2p-configuration-cache-directory
                   (default "/var/cache/guix-p2p"))
  (routing         guix-p2p-configuration-routing     ;p2p-first | p2p-only | builtin-first
                   (default "p2p-first"))
  (log-file        guix-p2p-configuration-log-file
                   (default "/var/log/guix-p2p.log")))

(define (config-file config)
  (let ((text (guix-p2p-configuration-config config))
        (cache (guix-p2p-configuration-cache-directory config)))
    (if (string? text)
        (plain-file "guix-p2p.toml"
                    (string-append
                     "cache_dir = \"" cache "\"\n"
                     "socket_group = \"guix-p2p\"\n"
                     text))
        text)))

(define (socket-file config)
  (string-append (guix-p2p-configuration-cache-directory config) "/control.sock"))

(define (guix-p2p-accounts config)
  (list (user-group (name "guix-p2p") (system? #t))
        (user-account
         (name "guix-p2p")
         (group "guix-p2p")
         (system? #t)
         (comment "guix-p2p daemon user")
         (home-directory "/var/empty")
         (shell (file-append shadow "/sbin/nologin")))))

(define (guix-p2p-activation config)
  (let ((cache (guix-p2p-configuration-cache-directory config)))
    #~(begin
        (use-modules (guix build utils))
        (let ((user (getpwnam "guix-p2p")))
          (mkdir-p #$cache)
          (chown #$cache (passwd:uid user) (passwd:gid user))
          (chmod #$cache #o750)))))

(define (guix-p2p-shepherd-service config)
  (let ((package (guix-p2p-configuration-package config)))
    (list (shepherd-service
           (documentation "guix-p2p peer-to-peer substitute daemon.")
           (provision '(guix-p2p))
           (requirement '(user-processes networking))
           (start #~(make-forkexec-constructor
                     (list #$(file-append package "/bin/guix-p2p")
                           "--daemon" "--config" #$(config-file config))
                     #:user "guix-p2p"
                     #:group "guix-p2p"
                     #:environment-variables
                     (list "HOME=/var/empty"
                           (string-append "XDG_CACHE_HOME="
                                          #$(guix-p2p-configuration-cache-directory config)))
                     #:log-file #$(guix-p2p-configuration-log-file config)))
           (stop #~(make-kill-destructor))
           (respawn? #t)))))

(define guix-p2p-service-type
  (service-type
   (name 'guix-p2p)
   (extensions
    (list (service-extension shepherd-root-service-type guix-p2p-shepherd-service)
          (service-extension account-service-type guix-p2p-accounts)
          (service-extension activation-service-type guix-p2p-activation)
          (service-extension profile-service-type
                             (compose list guix-p2p-configuration-package))))
   (default-value (guix-p2p-configuration))
   (description "Run the guix-p2p daemon, which finds and shares substitutes
with other machines and serves them to guix-daemon through the guix-p2p
substitute extension.")))

(define* (guix-p2p-guix-configuration config
                                       #:key
                                       (p2p (guix-p2p-configuration)))
  "Return CONFIG, a <guix-configuration>, with guix-daemon's environment set
so that `guix substitute' goes through guix-p2p (falling back to Guix's own
substituter whenever the guix-p2p daemon is not running)."
  (define ours
    (list (string-append "GUIX_EXTENSIONS_PATH="
                         "/run/current-system/profile/share/guix/extensions")
          (string-append "GUIX_P2P_SOCKET=" (socket-file p2p))
          (string-append "GUIX_P2P_SUBSTITUTE_ROUTING="
                         (guix-p2p-configuration-routing p2p))))
  (define (ours? entry)
    (any (lambda (prefix) (string-prefix? prefix entry))
         '("GUIX_EXTENSIONS_PATH=" "GUIX_P2P_SOCKET=" "GUIX_P2P_SUBSTITUTE_ROUTING="
           "GUIX_P2P_CONFIG=")))
  (guix-configuration
   (inherit config)
   (environment
    (append ours
            (list #~(string-append "GUIX_P2P_CONFIG=" #$(config-file p2p)))
            (remove ours? (guix-configuration-environment config))))))
