;;; A stand-in for Guix's built-in (guix scripts substitute), for tests of the
;;; extension's fall-back paths. It speaks the guix-daemon protocol minimally:
;;; it announces itself on stderr, claims no path in `have' and `info', and
;;; answers `substitute' with a failure status, all on fd 4.

(define-module (guix scripts substitute)
  #:use-module (ice-9 rdelim)
  #:export (guix-substitute))

(define (guix-substitute . args)
  (let ((reply (fdopen 4 "w")))
    (setvbuf reply 'none)
    (format (current-error-port) "stand-in builtin substituter ~a~%" args)
    (force-output (current-error-port))
    (let loop ()
      (let ((line (read-line)))
        (unless (eof-object? line)
          (cond
           ((or (string-prefix? "have " line) (string-prefix? "info " line))
            (display "\n" reply))
           ((string-prefix? "substitute " line)
            (display "failed builtin-stand-in\n" reply)))
          (loop))))))
