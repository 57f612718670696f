;;; Stand-in for Guix's (guix records), for tests/guix_channel_test.ts.
;;;
;;; Only `define-record-type*' with the field properties the channel uses:
;;; (default EXP), (sanitize PROC), and the (inherit RECORD) clause of the
;;; syntactic constructor, whose values may refer to the fields given
;;; before them.  As in Guix, a field without a default must be
;;; given, an unknown field is an error, and the sanitizer sees every value
;;; (given, inherited or default).

(define-module (guix records)
  #:use-module (srfi srfi-9)
  #:use-module (srfi srfi-1)
  #:export (define-record-type*))

(define (instantiate type-name make specs clauses)
  ;; SPECS: (name default-thunk-or-#f sanitizer accessor) per field, in order.
  ;; CLAUSES: (name . thunk), with 'inherit for the record to start from.
  (let ((parent (and=> (assq 'inherit clauses) (lambda (c) ((cdr c))))))
    (for-each (lambda (clause)
                (unless (or (eq? (car clause) 'inherit)
                            (find (lambda (spec) (eq? (car spec) (car clause))) specs))
                  (error (format #f "~a: unknown field `~a'" type-name (car clause)))))
              clauses)
    (apply make
           (map (lambda (spec)
                  (let* ((name (first spec))
                         (given (assq name clauses))
                         (value (cond (given ((cdr given)))
                                      (parent ((fourth spec) parent))
                                      ((second spec) ((second spec)))
                                      (else (error (format #f "~a: missing field `~a'"
                                                           type-name name))))))
                    ((third spec) value)))
                specs))))

(define-syntax define-record-type*
  (lambda (s)
    (define (property props key)
      (let loop ((props props))
        (if (null? props)
            #f
            (syntax-case (car props) ()
              ((k e) (and (identifier? #'k) (eq? (syntax->datum #'k) key)) #'e)
              (_ (loop (cdr props)))))))
    (syntax-case s ()
      ((_ type name make pred (field accessor prop ...) ...)
       (with-syntax ((((default sanitize) ...)
                      (map (lambda (props)
                             (let ((default (property props 'default))
                                   (sanitize (property props 'sanitize)))
                               (list (if default #`(lambda () #,default) #'#f)
                                     (or sanitize #'identity))))
                           #'((prop ...) ...))))
         #'(begin
             (define-record-type type (make field ...) pred (field accessor) ...)
             (define-syntax name
               (syntax-rules ()
                 ;; As in Guix, a value may refer to the fields given before it.
                 ((_ (f v) (... ...))
                  (let* ((f v) (... ...))
                    (instantiate 'type make
                                 (list (list 'field default sanitize accessor) ...)
                                 (list (cons 'f (lambda () f)) (... ...)))))))))))))
