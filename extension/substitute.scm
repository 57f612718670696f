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
;;; A Guix command extension that shadows `guix substitute'.  guix-daemon runs
;;; `guix substitute --query' and `guix substitute --substitute' with
;;; GUIX_EXTENSIONS_PATH in its environment; Guix finds this file before the
;;; built-in (guix scripts substitute) module and calls `guix-substitute'.
;;;
;;; When the guix-p2p daemon is running, we exec the guix-p2p substitute
;;; helper in place of this process: file descriptors 0, 1, 2 and 4 and the
;;; environment (_NIX_OPTIONS, NIX_STORE_DIR, ...) are inherited unchanged, and
;;; the helper speaks the guix-daemon protocol itself.  When the daemon's
;;; socket is missing or stale, or the helper is not installed, we call the
;;; built-in substituter instead, so builds keep working.
;;;
;;; Environment:
;;;   GUIX_P2P_SUBSTITUTE_ROUTING  p2p-first (default) | p2p-only | builtin-first
;;;   GUIX_P2P_SOCKET              the daemon's control socket
;;;   GUIX_P2P_HELPER              the helper program (default: installed path)
;;;   GUIX_P2P_BYPASS              if "1", always run the built-in substituter
;;;                                (the helper sets it when it runs the
;;;                                built-in in builtin-first mode)
;;;
;;; Code:

(define-module (guix extensions substitute)
  #:use-module (ice-9 match)
  #:export (guix-substitute))

;; Replaced by the Guix package with the installed helper's file name.
(define %installed-helper "@GUIX_P2P_HELPER@")

;; Where guix-p2p-service-type and the systemd unit put it (docs/guix.md).
(define %default-socket "/run/guix-p2p/control.sock")

(define (non-empty-getenv name)
  (let ((value (getenv name)))
    (and value (not (string-null? value)) value)))

(define (helper-program)
  "Return the helper's file name, or #f if it cannot be found."
  (or (non-empty-getenv "GUIX_P2P_HELPER")
      (and (not (string-prefix? "@" %installed-helper)) %installed-helper)
      (search-path (parse-path (or (getenv "PATH") "")) "guix-p2p-substitute")))

(define (routing)
  (match (non-empty-getenv "GUIX_P2P_SUBSTITUTE_ROUTING")
    ((and mode (or "p2p-first" "p2p-only" "builtin-first")) mode)
    (_ "p2p-first")))

(define (socket-status file)
  "Return 'live if a daemon accepts connections on FILE, else a symbol naming
why not: 'absent, 'not-a-socket or 'stale."
  (cond ((not (file-exists? file)) 'absent)
        ((not (eq? 'socket (stat:type (stat file)))) 'not-a-socket)
        (else
         (let ((sock (socket PF_UNIX SOCK_STREAM 0)))
           (catch 'system-error
             (lambda ()
               (connect sock AF_UNIX file)
               (close-port sock)
               'live)
             (lambda _
               (close-port sock)
               'stale))))))

(define (builtin-substitute args)
  "Run Guix's own substituter with ARGS."
  (let ((builtin (module-ref (resolve-interface '(guix scripts substitute))
                             'guix-substitute)))
    (apply builtin args)))

(define (fall-back args reason)
  (format (current-error-port)
          "guix-p2p: ~a; using Guix's built-in substituter~%" reason)
  ;; stderr is block-buffered on guix-daemon's log pipe: flush now, not at exit.
  (force-output (current-error-port))
  (builtin-substitute args))

(define (guix-substitute . args)
  (let ((helper (helper-program))
        (socket (or (non-empty-getenv "GUIX_P2P_SOCKET") %default-socket)))
    (cond
     ((equal? (getenv "GUIX_P2P_BYPASS") "1")
      (builtin-substitute args))
     ((not helper)
      (fall-back args "guix-p2p-substitute not found"))
     ((not (access? helper X_OK))
      (fall-back args (string-append helper " is not executable")))
     (else
      (match (socket-status socket)
        ('live
         (setenv "GUIX_P2P_SUBSTITUTE_ROUTING" (routing))
         (setenv "GUIX_P2P_SOCKET" socket)
         ;; The `guix' program itself, for the helper's builtin-first mode.
         (setenv "GUIX_P2P_GUIX_PROGRAM" (car (command-line)))
         (catch 'system-error
           (lambda ()
             (apply execl helper "guix-p2p-substitute" args))
           (lambda error
             (fall-back args
                        (format #f "cannot run ~a: ~a" helper
                                (strerror (system-error-errno error)))))))
        (status
         (fall-back args
                    (format #f "daemon socket ~a is ~a" socket
                            (match status
                              ('absent "absent")
                              ('not-a-socket "not a socket")
                              ('stale "stale (connection refused)"))))))))))

;;; substitute.scm ends here
