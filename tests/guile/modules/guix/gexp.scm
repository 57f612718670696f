;;; Stand-in for Guix's (guix gexp), for tests/guix_channel_test.ts.
;;;
;;; A gexp keeps its code as a procedure of a `lower' procedure, so that a
;;; test can turn it into the S-expression Guix would build with, choosing
;;; what each ungexped object (package, file, output) lowers to
;;; (tests/guile/modules/stand-in/lower.scm).  The file-like constructors
;;; keep their arguments; their signatures are Guix's.

(define-module (guix gexp)
  #:use-module (srfi srfi-9)
  #:export (gexp
            gexp?
            gexp-output
            gexp-output?
            gexp-output-name
            with-imported-modules
            with-extensions
            plain-file
            plain-file?
            plain-file-name
            plain-file-content
            local-file
            local-file?
            local-file-file
            local-file-name
            file-append
            file-append?
            file-append-base
            file-append-suffix
            mixed-text-file
            computed-file
            program-file))

(define-record-type <gexp>
  (make-gexp proc)
  gexp?
  (proc gexp-proc))                             ;(lambda (lower) sexp)

(define-record-type <gexp-output>
  (gexp-output name)
  gexp-output?
  (name gexp-output-name))

(define-record-type <ungexp-splice>
  (ungexp-splice value)
  ungexp-splice?
  (value ungexp-splice-value))

;; #~EXP reads as (gexp EXP), #$X as (ungexp X), #$@X as (ungexp-splicing X),
;; #+X as (ungexp-native X), as in Guix.
(define-syntax gexp
  (lambda (s)
    (define (build x lower)
      (syntax-case x (ungexp ungexp-native ungexp-splicing
                      ungexp-native-splicing output)
        ((ungexp output) #`(#,lower (gexp-output "out")))
        ((ungexp output name) #`(#,lower (gexp-output name)))
        ((ungexp e) #`(#,lower e))
        ((ungexp-native e) #`(#,lower e))
        (((ungexp-splicing e) . rest)
         #`(append (#,lower (ungexp-splice e)) #,(build #'rest lower)))
        (((ungexp-native-splicing e) . rest)
         #`(append (#,lower (ungexp-splice e)) #,(build #'rest lower)))
        ((a . b) #`(cons #,(build #'a lower) #,(build #'b lower)))
        (#(e ...) #`(list->vector #,(build #'(e ...) lower)))
        (atom #''atom)))
    (syntax-case s ()
      ((_ exp)
       (with-syntax ((lower (datum->syntax #'exp (gensym "lower"))))
         #`(make-gexp (lambda (lower) #,(build #'exp #'lower))))))))

(define-syntax-rule (with-imported-modules modules body ...)
  (begin modules body ...))

(define-syntax-rule (with-extensions extensions body ...)
  (begin extensions body ...))

(define-record-type <plain-file>
  (plain-file name content)
  plain-file?
  (name plain-file-name)
  (content plain-file-content))

(define-record-type <local-file>
  (make-local-file file name)
  local-file?
  (file local-file-file)
  (name local-file-name))

(define* (local-file file #:optional (name (basename file)) #:key recursive? select?)
  (make-local-file file name))

(define-record-type <file-append>
  (make-file-append base suffix)
  file-append?
  (base file-append-base)
  (suffix file-append-suffix))                  ;list of strings

(define (file-append base . suffix)
  (make-file-append base suffix))

(define-record-type <computed-file>
  (make-computed-file name gexp)
  computed-file?
  (name computed-file-name)
  (gexp computed-file-gexp))

(define* (computed-file name gexp #:key guile local-build? options)
  (make-computed-file name gexp))

(define (mixed-text-file name . text)
  (make-computed-file name text))

(define* (program-file name gexp #:key guile module-path)
  (make-computed-file name gexp))

;; Reader syntax, installed when the module is loaded, as Guix does.
(define (read-ungexp chr port)
  (let ((splicing? (eqv? (peek-char port) #\@)))
    (when splicing? (read-char port))
    (list (if (eqv? chr #\$)
              (if splicing? 'ungexp-splicing 'ungexp)
              (if splicing? 'ungexp-native-splicing 'ungexp-native))
          (read port))))

(read-hash-extend #\~ (lambda (chr port) (list 'gexp (read port))))
(read-hash-extend #\$ read-ungexp)
(read-hash-extend #\+ read-ungexp)
