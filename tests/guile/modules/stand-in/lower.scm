;;; Test-only (not a Guix module): turn the stand-in gexps into the
;;; S-expressions Guix would build with, and run a package's build phases
;;; the way Guix's copy-build-system does, in a stand-in store directory
;;; where each package is a directory named after it (PACKAGE or
;;; PACKAGE-OUTPUT) that the test prepares.

(define-module (stand-in lower)
  #:use-module (guix gexp)
  #:use-module (guix packages)
  #:use-module (ice-9 match)
  #:export (gexp->sexp
            input-alist
            build-package))

(define (package-directory store package output)
  (string-append store "/" (package-name package)
                 (if (string=? output "out") "" (string-append "-" output))))

(define* (gexp->sexp exp #:key (store "/gnu/store") (outputs '(("out" . "/gnu/store/out"))))
  (define (lower x)
    (cond ((gexp-output? x) (assoc-ref outputs (gexp-output-name x)))
          (((@@ (guix gexp) ungexp-splice?) x)
           (map lower ((@@ (guix gexp) ungexp-splice-value) x)))
          ((package? x) (package-directory store x "out"))
          ((file-append? x)
           (apply string-append (lower (file-append-base x)) (file-append-suffix x)))
          ((plain-file? x) (string-append store "/" (plain-file-name x)))
          ((gexp? x) (gexp->sexp x #:store store #:outputs outputs))
          ((pair? x) (cons (lower (car x)) (lower (cdr x))))
          (else x)))
  (((@@ (guix gexp) gexp-proc) exp) lower))

(define (input-alist store inputs)
  "Return the build side's input alist for INPUTS, a package's inputs field."
  (map (match-lambda
         ((? package? p) (cons (package-name p) (package-directory store p "out")))
         (((? package? p) output)
          (cons (string-append (package-name p) ":" output)
                (package-directory store p output))))
       inputs))

(define* (build-package package #:key store out source)
  "Run PACKAGE's phases like copy-build-system: evaluate the lowered phases
in a module using (guix build copy-build-system) and (guix build utils),
then call copy-build with the package's keyword arguments."
  (define outputs `(("out" . ,out)))
  (define (lower-argument value)
    (if (gexp? value)
        (eval (gexp->sexp value #:store store #:outputs outputs) builder)
        value))
  (define builder
    (let ((module (make-fresh-user-module)))
      (module-use! module (resolve-interface '(guix build copy-build-system)))
      (module-use! module (resolve-interface '(guix build utils)))
      module))
  (let loop ((arguments (package-arguments package)) (lowered '()))
    (match arguments
      ((key value . rest) (loop rest (cons* (lower-argument value) key lowered)))
      (()
       (apply (module-ref builder 'copy-build)
              #:source source
              #:outputs outputs
              #:inputs (input-alist store (append (package-native-inputs package)
                                                  (package-inputs package)))
              (reverse lowered))))))
