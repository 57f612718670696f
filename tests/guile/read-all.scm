;;; Reads every form of the files given on the command line, with Guix's gexp
;;; reader syntax (#~ #$ #$@ #+) registered, and reports the count or the
;;; first syntax error with its location.  Used by tests/guix_files_test.ts.
(use-modules (ice-9 match))

(define (tagged tag)
  (lambda (chr port) (list tag (read port))))

(read-hash-extend #\~ (tagged 'gexp))
(read-hash-extend #\+ (tagged 'ungexp-native))
(read-hash-extend #\$ (lambda (chr port)
                        (if (eqv? (peek-char port) #\@)
                            (begin (read-char port) (list 'ungexp-splicing (read port)))
                            (list 'ungexp (read port)))))

(for-each (lambda (file)
            (call-with-input-file file
              (lambda (port)
                (let loop ((n 0))
                  (let ((form (read port)))
                    (if (eof-object? form)
                        (format #t "~a: ~a forms~%" file n)
                        (loop (+ n 1))))))))
          (cdr (command-line)))
