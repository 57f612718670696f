;;; Stand-in for Guix's build-side (guix build utils), for
;;; tests/guix_channel_test.ts: the procedures the channel's build phases
;;; call, with Guix's signatures and observable behaviour (`wrap-program'
;;; writes the same kind of wrapper: exports, then exec -a "$0" of the
;;; hard-linked .NAME-real).

(define-module (guix build utils)
  #:use-module (ice-9 match)
  #:use-module (ice-9 regex)
  #:use-module (ice-9 rdelim)
  #:use-module (ice-9 textual-ports)
  #:use-module ((srfi srfi-1) #:select (any fold iota break alist-delete))
  #:use-module (srfi srfi-11)
  #:export (invoke
            mkdir-p
            which
            search-input-file
            substitute*
            wrap-program
            with-directory-excursion
            modify-phases))

(define (invoke program . args)
  (let ((status (apply system* program args)))
    (unless (zero? status)
      (error (format #f "invoke: ~s exited with status ~a" (cons program args)
                     (status:exit-val status))))
    #t))

(define (mkdir-p dir)
  (unless (or (string-null? dir) (file-exists? dir))
    (mkdir-p (dirname dir))
    (mkdir dir)))

(define (which program)
  (search-path (parse-path (or (getenv "PATH") "")) program))

(define (search-input-file inputs file)
  ;; INPUTS: alist of label . directory, as the build side sees them.
  (let ((file (string-trim file #\/)))
    (or (any (match-lambda
               ((_ . dir)
                (let ((candidate (string-append dir "/" file)))
                  (and (file-exists? candidate) candidate))))
             inputs)
        (error (format #f "search-input-file: ~a not found in inputs" file)))))

(define-syntax-rule (with-directory-excursion dir body ...)
  (let ((previous (getcwd)))
    (dynamic-wind (lambda () (chdir dir))
                  (lambda () body ...)
                  (lambda () (chdir previous)))))

(define (substitute-lines file rewrite)
  (let* ((text (call-with-input-file file get-string-all))
         (mode (stat:perms (stat file))))
    (call-with-output-file file
      (lambda (port) (display (rewrite text) port)))
    (chmod file mode)))

(define-syntax substitute*
  (syntax-rules ()
    ((_ file ((regexp match-var ...) body ...) ...)
     (for-each (lambda (f)
                 (substitute-lines
                  f
                  (lambda (text)
                    (fold (lambda (rx+proc text)
                            (regexp-substitute/global
                             #f (car rx+proc) text 'pre (cdr rx+proc) 'post))
                          text
                          (list (cons (make-regexp regexp regexp/extended)
                                      (lambda (m)
                                        (apply (lambda* (match-var ... . _) body ...)
                                               (map (lambda (i) (match:substring m i))
                                                    (iota (match:count m))))))
                                ...)))))
               (if (string? file) (list file) file)))))

(define* (wrap-program prog #:key (sh (which "bash")) #:rest vars)
  (define vars/filtered
    (match vars
      ((#:sh _ . vars) vars)
      (vars vars)))
  (define (export-line spec)
    (match spec
      ((var sep 'prefix dirs)
       (format #f "export ~a=\"~a${~a:+~a}$~a\"" var (string-join dirs sep) var sep var))
      ((var 'prefix dirs)
       (format #f "export ~a=\"~a${~a:+:}$~a\"" var (string-join dirs ":") var var))
      ((var sep '= dirs)
       (format #f "export ~a=\"~a\"" var (string-join dirs sep)))
      ((var '= dirs)
       (format #f "export ~a=\"~a\"" var (string-join dirs ":")))))
  (let ((real (string-append (dirname prog) "/." (basename prog) "-real")))
    (link prog real)
    (call-with-output-file (string-append real "-tmp")
      (lambda (port)
        (format port "#!~a~%~a~%exec -a \"$0\" \"~a\" \"$@\"~%"
                sh (string-join (map export-line vars/filtered) "\n")
                (canonicalize-path real))))
    (chmod (string-append real "-tmp") #o755)
    (rename-file (string-append real "-tmp") prog)))

(define-syntax modify-phases
  (syntax-rules (delete replace add-before add-after)
    ((_ phases) phases)
    ((_ phases (delete old) rest ...)
     (modify-phases (alist-delete old phases) rest ...))
    ((_ phases (replace old new) rest ...)
     (modify-phases (map (match-lambda
                           ((name . proc) (if (eq? name old) (cons name new) (cons name proc))))
                         phases)
                    rest ...))
    ((_ phases (add-before old name proc) rest ...)
     (modify-phases (insert phases old name proc #f) rest ...))
    ((_ phases (add-after old name proc) rest ...)
     (modify-phases (insert phases old name proc #t) rest ...))))

(define (insert phases old name proc after?)
  (let-values (((before from) (break (lambda (p) (eq? (car p) old)) phases)))
    (when (null? from)
      (error (format #f "modify-phases: no phase named ~a" old)))
    (if after?
        (append before (list (car from) (cons name proc)) (cdr from))
        (append before (list (cons name proc)) from))))
