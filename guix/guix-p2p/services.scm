;;; guix-p2p --- peer-to-peer substitutes for GNU Guix
;;;
;;; This file is part of guix-p2p.
;;;
;;; guix-p2p is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by
;;; the Free Software Foundation; either version 3 of the License, or (at
;;; your option) any later version.

;;; Commentary:
;;;
;;; The Guix System service.  Typical use (docs/guix.md has the details):
;;;
;;;   (use-modules (guix-p2p services))
;;;   (operating-system
;;;     ...
;;;     (services
;;;      (cons (service guix-p2p-service-type
;;;                     (guix-p2p-configuration
;;;                      (bootstrap-peers '("/ip4/192.0.2.7/tcp/6881/p2p/12D3Koo..."))))
;;;            (modify-services %base-services
;;;              (guix-service-type config =>
;;;                (guix-p2p-guix-configuration config))))))
;;;
;;; The daemon runs as the unprivileged user guix-p2p.  Its configuration is
;;; /etc/guix-p2p/config.toml, serialised from `guix-p2p-configuration'; the
;;; substitute helper that guix-daemon runs reads the same file, because
;;; `guix-p2p-guix-configuration' points guix-daemon at it.  Guix's
;;; `guix-extension' records cannot set guix-daemon's environment, hence that
;;; procedure for `modify-services'.
;;;
;;; Code:

(define-module (guix-p2p services)
  #:use-module (gnu services)
  #:use-module (gnu services base)
  #:use-module (gnu services shepherd)
  #:use-module (gnu system shadow)
  #:use-module ((gnu packages admin) #:select (shadow))
  #:use-module (guix gexp)
  #:use-module (guix records)
  #:use-module (guix-p2p packages)
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-1)
  #:export (guix-p2p-configuration
            guix-p2p-configuration?
            guix-p2p-configuration-package
            guix-p2p-configuration-cache-directory
            guix-p2p-configuration-log-file
            guix-p2p-configuration->toml
            guix-p2p-service-type
            guix-p2p-guix-configuration
            guix-p2p-daemon-environment
            %guix-p2p-config-file
            %guix-p2p-socket-directory
            %guix-p2p-socket-file))

;;;
;;; Fixed locations.  guix-daemon, the admin CLI and the daemon agree on
;;; them without being told twice.
;;;

(define %guix-p2p-config-file "/etc/guix-p2p/config.toml")
(define %guix-p2p-socket-directory "/run/guix-p2p")
(define %guix-p2p-socket-file
  (string-append %guix-p2p-socket-directory "/control.sock"))
(define %guix-p2p-extensions-directory
  "/run/current-system/profile/share/guix/extensions")

;;;
;;; Field types.  #f (or 'default for booleans) leaves a key out of the
;;; file, so the daemon's own default applies.
;;;

(define (checked field ok? expected)
  (lambda (value)
    (if (or (not value) (ok? value))
        value
        (error (format #f "guix-p2p-configuration: field `~a' must be ~a, not ~s"
                       field expected value)))))

(define (string-list? value)
  (and (list? value) (every string? value)))

(define (size? value)
  ;; Bytes, or a string such as "10GiB" or "20MB/s" (the daemon parses it).
  (or (and (integer? value) (>= value 0)) (string? value)))

(define (strings field) (checked field string-list? "a list of strings"))
(define (text field) (checked field string? "a string"))
(define (size field) (checked field size? "a byte count or a size string"))

(define (flag field)
  (lambda (value)
    (if (memq value '(#t #f default))
        value
        (error (format #f "guix-p2p-configuration: field `~a' must be #t, #f or 'default, not ~s"
                       field value)))))

(define (one-of field choices)
  (checked field (lambda (v) (member v choices))
           (string-append "one of " (string-join choices ", "))))

(define-record-type* <guix-p2p-configuration>
  guix-p2p-configuration make-guix-p2p-configuration
  guix-p2p-configuration?
  (package          guix-p2p-configuration-package       ;file-like
                    (default guix-p2p))
  (cache-directory  guix-p2p-configuration-cache-directory
                    (default "/var/cache/guix-p2p")
                    (sanitize (text 'cache-directory)))
  (log-file         guix-p2p-configuration-log-file
                    (default "/var/log/guix-p2p.log")
                    (sanitize (text 'log-file)))
  (log-level        guix-p2p-configuration-log-level     ;"error" … "debug"
                    (default #f)
                    (sanitize (one-of 'log-level '("error" "warn" "info" "debug"))))
  (listen           guix-p2p-configuration-listen        ;multiaddrs
                    (default #f)
                    (sanitize (strings 'listen)))
  (announce         guix-p2p-configuration-announce      ;external multiaddrs
                    (default #f)
                    (sanitize (strings 'announce)))
  (bootstrap-peers  guix-p2p-configuration-bootstrap-peers
                    (default #f)
                    (sanitize (strings 'bootstrap-peers)))
  (mdns?            guix-p2p-configuration-mdns?
                    (default 'default)
                    (sanitize (flag 'mdns?)))
  (substitute-urls  guix-p2p-configuration-substitute-urls
                    (default #f)
                    (sanitize (strings 'substitute-urls)))
  (policy           guix-p2p-configuration-policy
                    (default #f)
                    (sanitize (one-of 'policy '("p2p-first" "p2p-only"
                                                "http-first" "http-only"))))
  (auto-seed        guix-p2p-configuration-auto-seed     ;checked by the daemon
                    (default #f)
                    (sanitize (text 'auto-seed)))
  (seed-paths       guix-p2p-configuration-seed-paths
                    (default #f)
                    (sanitize (strings 'seed-paths)))
  (seed-profiles    guix-p2p-configuration-seed-profiles
                    (default #f)
                    (sanitize (strings 'seed-profiles)))
  (max-upload-rate  guix-p2p-configuration-max-upload-rate
                    (default #f)
                    (sanitize (size 'max-upload-rate)))
  (max-download-rate guix-p2p-configuration-max-download-rate
                     (default #f)
                     (sanitize (size 'max-download-rate)))
  (max-connections  guix-p2p-configuration-max-connections
                    (default #f)
                    (sanitize (checked 'max-connections exact-integer? "an integer")))
  (cache-size       guix-p2p-configuration-cache-size
                    (default #f)
                    (sanitize (size 'cache-size)))
  (gateway-listen   guix-p2p-configuration-gateway-listen ;"" disables it
                    (default #f)
                    (sanitize (text 'gateway-listen)))
  (dashboard-listen guix-p2p-configuration-dashboard-listen ;"" disables it
                    (default #f)
                    (sanitize (text 'dashboard-listen)))
  (extra-toml       guix-p2p-configuration-extra-toml    ;appended verbatim
                    (default "")
                    (sanitize (text 'extra-toml))))

;;;
;;; TOML serialisation.
;;;

(define (toml-string value)
  (string-append
   "\""
   (string-concatenate
    (map (lambda (char)
           (match char
             (#\" "\\\"")
             (#\\ "\\\\")
             (#\newline "\\n")
             (#\tab "\\t")
             (#\return "\\r")
             (_ (let ((code (char->integer char)))
                  (if (< code 32)
                      (string-append "\\u"
                                     (string-pad (number->string code 16) 4 #\0))
                      (string char))))))
         (string->list value)))
   "\""))

(define (toml-value value)
  (cond ((eq? value #t) "true")
        ((eq? value #f) "false")
        ((string? value) (toml-string value))
        ((exact-integer? value) (number->string value))
        ((list? value)
         (string-append "[" (string-join (map toml-value value) ", ") "]"))
        (else (error "guix-p2p-configuration: cannot serialise" value))))

(define (guix-p2p-configuration->toml config)
  "Return the TOML text of CONFIG, the file the daemon and the substitute
helper read."
  (define (line key value)
    (string-append key " = " (toml-value value) "\n"))
  (define (entry key value)                     ;#f: not set
    (if value (line key value) ""))
  (define (flag-entry key value)                ;'default: not set
    (if (eq? value 'default) "" (line key value)))
  (string-append
   "# Generated by guix-p2p-service-type; edit the operating system instead.\n"
   (entry "cache_dir" (guix-p2p-configuration-cache-directory config))
   (entry "socket_path" %guix-p2p-socket-file)
   (entry "socket_group" "guix-p2p")
   (entry "log_level" (guix-p2p-configuration-log-level config))
   (entry "listen" (guix-p2p-configuration-listen config))
   (entry "announce" (guix-p2p-configuration-announce config))
   (entry "bootstrap_peers" (guix-p2p-configuration-bootstrap-peers config))
   (flag-entry "mdns" (guix-p2p-configuration-mdns? config))
   (entry "substitute_urls" (guix-p2p-configuration-substitute-urls config))
   (entry "policy" (guix-p2p-configuration-policy config))
   (entry "auto_seed" (guix-p2p-configuration-auto-seed config))
   (entry "seed_paths" (guix-p2p-configuration-seed-paths config))
   (entry "seed_profiles" (guix-p2p-configuration-seed-profiles config))
   (entry "max_upload_rate" (guix-p2p-configuration-max-upload-rate config))
   (entry "max_download_rate" (guix-p2p-configuration-max-download-rate config))
   (entry "max_connections" (guix-p2p-configuration-max-connections config))
   (entry "cache_size" (guix-p2p-configuration-cache-size config))
   (entry "gateway_listen" (guix-p2p-configuration-gateway-listen config))
   (entry "dashboard_listen" (guix-p2p-configuration-dashboard-listen config))
   (let ((extra (guix-p2p-configuration-extra-toml config)))
     (if (or (string-null? extra) (string-suffix? "\n" extra))
         extra
         (string-append extra "\n")))))

(define (config-file config)
  (plain-file "guix-p2p.toml" (guix-p2p-configuration->toml config)))

;;;
;;; Service parts.
;;;

(define (guix-p2p-accounts config)
  (list (user-group (name "guix-p2p") (system? #t))
        (user-account
         (name "guix-p2p")
         (group "guix-p2p")
         (system? #t)
         (comment "guix-p2p daemon user")
         (home-directory "/var/empty")
         (shell (file-append shadow "/sbin/nologin")))))

(define (guix-p2p-etc-files config)
  `(("guix-p2p/config.toml" ,(config-file config))))

(define (guix-p2p-activation config)
  (let ((cache (guix-p2p-configuration-cache-directory config))
        (program (file-append (guix-p2p-configuration-package config)
                              "/bin/guix-p2p")))
    (with-imported-modules '((guix build utils))
      #~(begin
          (use-modules (guix build utils))
          (let* ((user (getpwnam "guix-p2p"))
                 (uid (passwd:uid user))
                 (gid (passwd:gid user)))
            ;; The node's identity key and caches: the daemon user only.
            (mkdir-p #$cache)
            (chown #$cache uid gid)
            (chmod #$cache #o700)
            ;; The control socket (mode 0660, group guix-p2p): reachable by
            ;; root (the substitute helper) and the guix-p2p group (admins).
            (mkdir-p #$%guix-p2p-socket-directory)
            (chown #$%guix-p2p-socket-directory uid gid)
            (chmod #$%guix-p2p-socket-directory #o750))
          ;; Report a configuration the daemon would refuse now, not when
          ;; it fails to start.  Activation goes on: other services must
          ;; still be activated at boot.
          (unless (zero? (system* #$program "config" "check"
                                  #$(config-file config)))
            (format (current-error-port)
                    "guix-p2p: the configuration above is invalid; \
the guix-p2p daemon will not start~%"))))))

(define (guix-p2p-shepherd-service config)
  (list (shepherd-service
         (documentation "Run the guix-p2p peer-to-peer substitute daemon.")
         (provision '(guix-p2p))
         (requirement '(user-processes networking))
         (start #~(make-forkexec-constructor
                   (list #$(file-append (guix-p2p-configuration-package config)
                                        "/bin/guix-p2p")
                         "--daemon" "--config" #$%guix-p2p-config-file)
                   #:user "guix-p2p"
                   #:group "guix-p2p"
                   #:environment-variables
                   (list "HOME=/var/empty" "LC_ALL=C.UTF-8")
                   #:log-file #$(guix-p2p-configuration-log-file config)))
         (stop #~(make-kill-destructor))
         (respawn? #t))))

(define guix-p2p-service-type
  (service-type
   (name 'guix-p2p)
   (extensions
    (list (service-extension shepherd-root-service-type
                             guix-p2p-shepherd-service)
          (service-extension account-service-type guix-p2p-accounts)
          (service-extension activation-service-type guix-p2p-activation)
          (service-extension etc-service-type guix-p2p-etc-files)
          (service-extension profile-service-type
                             (compose list guix-p2p-configuration-package))))
   (default-value (guix-p2p-configuration))
   (description "Run the guix-p2p daemon, which finds and shares substitutes
with other machines; guix-daemon uses it through the guix-p2p extension once
its configuration goes through @code{guix-p2p-guix-configuration}.")))

;;;
;;; guix-daemon's side.
;;;

(define* (guix-p2p-daemon-environment environment
                                      #:key (routing "p2p-first"))
  "Return ENVIRONMENT, a list of \"NAME=VALUE\" strings for guix-daemon, with
the guix-p2p extension directory appended to GUIX_EXTENSIONS_PATH (an
existing value is kept, ours comes last) and the guix-p2p socket,
configuration file and routing set."
  (define (variable entry)
    (match (string-index entry #\=)
      (#f entry)
      (index (substring entry 0 index))))
  (define (value entry)
    (substring entry (+ 1 (string-index entry #\=))))
  (define ours
    `(("GUIX_P2P_SOCKET" . ,%guix-p2p-socket-file)
      ("GUIX_P2P_CONFIG" . ,%guix-p2p-config-file)
      ("GUIX_P2P_SUBSTITUTE_ROUTING" . ,routing)))
  (unless (member routing '("p2p-first" "p2p-only" "builtin-first"))
    (error "guix-p2p-guix-configuration: routing must be p2p-first, \
p2p-only or builtin-first, not" routing))
  (let* ((kept (remove (lambda (entry) (assoc (variable entry) ours))
                       environment))
         (has-path? (any (lambda (e) (string=? (variable e) "GUIX_EXTENSIONS_PATH"))
                         kept))
         (kept (map (lambda (entry)
                      (if (and (string=? (variable entry) "GUIX_EXTENSIONS_PATH")
                               (not (member %guix-p2p-extensions-directory
                                            (string-split (value entry) #\:))))
                          (string-append entry
                                         (if (string-null? (value entry)) "" ":")
                                         %guix-p2p-extensions-directory)
                          entry))
                    kept)))
    (append kept
            (if has-path?
                '()
                (list (string-append "GUIX_EXTENSIONS_PATH="
                                     %guix-p2p-extensions-directory)))
            (map (match-lambda ((name . value) (string-append name "=" value)))
                 ours))))

(define* (guix-p2p-guix-configuration config #:key (routing "p2p-first"))
  "Return CONFIG, a <guix-configuration>, with guix-daemon's environment
extended so that `guix substitute' goes through guix-p2p; ROUTING is
p2p-first, p2p-only or builtin-first.  When the guix-p2p daemon is not
running, the extension falls back to Guix's own substituter.  Restart
guix-daemon once after the first reconfigure: herd restart guix-daemon."
  (guix-configuration
   (inherit config)
   (environment (guix-p2p-daemon-environment
                 (guix-configuration-environment config)
                 #:routing routing))))

;;; services.scm ends here
