;;; Driver for tests/guix_channel_test.ts.  Loads the channel's modules BY
;;; NAME (guile -L guix -L tests/guile/modules) and prints what the test
;;; asserts on, as JSON on stdout.
;;;
;;;   package                      the package's fields
;;;   build STORE OUT SOURCE       run the package's phases (stand-in store)
;;;   service CONFIG-EXPR [ENV]    TOML, accounts, activation, Shepherd
;;;                                service, etc files; guix-daemon's
;;;                                environment from ENV (a Scheme list)

(use-modules (guix-p2p packages)
             (guix-p2p services)
             (guix packages)
             (guix gexp)
             (gnu services)
             (gnu services base)
             (gnu services shepherd)
             (gnu system shadow)
             (stand-in lower)
             (ice-9 match)
             (srfi srfi-1))

(define (json x)
  (cond ((eq? x #t) "true")
        ((eq? x #f) "false")
        ((null? x) "[]")
        ((number? x) (number->string x))
        ((symbol? x) (json (symbol->string x)))
        ((string? x)
         (string-append
          "\""
          (string-concatenate
           (map (lambda (c)
                  (cond ((char=? c #\") "\\\"")
                        ((char=? c #\\) "\\\\")
                        ((char<? c #\space)
                         (string-append "\\u" (string-pad (number->string (char->integer c) 16)
                                                           4 #\0)))
                        (else (string c))))
                (string->list x)))
          "\""))
        ((and (pair? x) (eq? (car x) 'object))
         (string-append "{"
                        (string-join (map (match-lambda
                                            ((k . v) (string-append (json k) ":" (json v))))
                                          (cdr x))
                                     ",")
                        "}"))
        ((list? x) (string-append "[" (string-join (map json x) ",") "]"))
        (else (json (object->string x)))))

(define (sexp->string x)
  (with-output-to-string (lambda () (write x))))

(define (package-report p)
  (define source (package-source p))
  (define (input-name i)
    (match i
      ((? package?) (package-name i))
      ((pkg output) (string-append (package-name pkg) ":" output))))
  (define arguments
    (let loop ((args (package-arguments p)) (acc '()))
      (match args
        ((key value . rest)
         (loop rest (cons (cons (keyword->symbol key)
                                (if (gexp? value) (sexp->string (gexp->sexp value)) value))
                          acc)))
        (() (cons 'object (reverse acc))))))
  `(object
    (name . ,(package-name p))
    (version . ,(package-version p))
    (uri . ,(origin-uri source))
    (sha256 . ,(match (origin-sha256 source) (('base32 s) s)))
    (method . ,(procedure-name (origin-method source)))
    (buildSystem . ,(package-build-system p))
    (arguments . ,arguments)
    (inputs . ,(map input-name (package-inputs p)))
    (nativeInputs . ,(map input-name (package-native-inputs p)))
    (searchPaths . ,(map (lambda (s)
                           `(object (variable . ,(search-path-specification-variable s))
                                    (files . ,(search-path-specification-files s))))
                         (package-native-search-paths p)))
    (supportedSystems . ,(package-supported-systems p))
    (license . ,(package-license p))
    (synopsis . ,(package-synopsis p))
    (description . ,(package-description p))
    (homePage . ,(package-home-page p))))

(define (extension-value type config)
  (let ((ext (find (lambda (e) (eq? (service-extension-target e) type))
                   (service-type-extensions guix-p2p-service-type))))
    ((service-extension-compute ext) config)))

(define (service-report config environment)
  (define shepherd (car (extension-value shepherd-root-service-type config)))
  (define store "/gnu/store")
  `(object
    (toml . ,(guix-p2p-configuration->toml config))
    (defaultIsDefault . ,(equal? (guix-p2p-configuration->toml config)
                                 (guix-p2p-configuration->toml
                                  (service-type-default-value guix-p2p-service-type))))
    (accounts . ,(map (lambda (a)
                        (if (user-account? a)
                            `(object (kind . "user") (name . ,(user-account-name a))
                                     (group . ,(user-account-group a))
                                     (system . ,(user-account-system? a))
                                     (home . ,(user-account-home-directory a))
                                     (shell . ,(sexp->string
                                                (gexp->sexp #~#$(user-account-shell a)))))
                            `(object (kind . "group") (name . ,(user-group-name a))
                                     (system . ,(user-group-system? a)))))
                      (extension-value account-service-type config)))
    (etc . ,(map (match-lambda
                   ((name file) `(object (name . ,name) (content . ,(plain-file-content file)))))
                 (extension-value etc-service-type config)))
    (profile . ,(map package-name (extension-value profile-service-type config)))
    (activation . ,(sexp->string (gexp->sexp (extension-value activation-service-type config))))
    (shepherd . (object
                 (provision . ,(shepherd-service-provision shepherd))
                 (requirement . ,(shepherd-service-requirement shepherd))
                 (respawn . ,(shepherd-service-respawn? shepherd))
                 (start . ,(sexp->string (gexp->sexp (shepherd-service-start shepherd))))
                 (stop . ,(sexp->string (gexp->sexp (shepherd-service-stop shepherd))))))
    (guixDaemonEnvironment
     . ,(guix-configuration-environment
         (guix-p2p-guix-configuration (guix-configuration (environment environment)))))
    (guixDaemonEnvironmentBuiltinFirst
     . ,(guix-p2p-daemon-environment environment #:routing "builtin-first"))))

(define (read-expr text)
  (eval (call-with-input-string text read) (current-module)))

(display
 (json
  (match (cdr (command-line))
    (("package") (package-report guix-p2p))
    (("build" store out source)
     (build-package guix-p2p #:store store #:out out #:source source)
     '(object (built . #t)))
    (("service" config) (service-report (read-expr config) '()))
    (("service" config env) (service-report (read-expr config) (read-expr env))))))
(newline)
