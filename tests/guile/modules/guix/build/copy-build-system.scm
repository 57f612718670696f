;;; Stand-in for Guix's build-side (guix build copy-build-system), for
;;; tests/guix_channel_test.ts.  %standard-phases has the phase names of
;;; Guix's copy-build-system in Guix's order.  The phases that decide whether
;;; a prebuilt executable survives are done for real: `unpack' (tar),
;;; `install' (the install plan), `strip' (binutils' strip, unless
;;; #:strip-binaries? is #f) and `validate-runpath' (every DT_NEEDED but
;;; glibc's own libraries must be found in a RUNPATH entry inside the store,
;;; as Guix's gremlin checks, here read with readelf).  The others only log.

(define-module (guix build copy-build-system)
  #:use-module (guix build utils)
  #:use-module (ice-9 match)
  #:use-module (ice-9 ftw)
  #:use-module (ice-9 popen)
  #:use-module (ice-9 rdelim)
  #:use-module (ice-9 regex)
  #:use-module ((srfi srfi-1) #:select (every filter-map remove any append-map))
  #:export (%standard-phases
            copy-build))

(define (log-only name)
  (lambda _ (format #t "stand-in: phase ~a has nothing to do here~%" name) #t))

;; Guix also puts the implicit inputs of gnu-build-system (tar, gzip,
;; binutils, coreutils...) on PATH; here the host's PATH stands for them.
(define* (set-paths #:key inputs #:allow-other-keys)
  (setenv "PATH" (string-join (append (filter-map
                                       (match-lambda
                                         ((_ . dir)
                                          (let ((bin (string-append dir "/bin")))
                                            (and (file-exists? bin) bin))))
                                       inputs)
                                      (list (getenv "PATH")))
                              ":")))

(define* (unpack #:key source #:allow-other-keys)
  (invoke "tar" "xf" source)
  (match (scandir "." (lambda (f) (not (member f '("." "..")))))
    ((dir) (chdir dir))
    (other (error "unpack: expected one top-level directory, got" other))))

(define (copy-tree source target)
  (if (eq? 'directory (stat:type (lstat source)))
      (begin
        (mkdir-p target)
        (for-each (lambda (f) (copy-tree (string-append source "/" f)
                                         (string-append target "/" f)))
                  (scandir source (lambda (f) (not (member f '("." "..")))))))
      (begin
        (mkdir-p (dirname target))
        (copy-file source target)
        (chmod target (stat:perms (stat source))))))

(define* (install #:key install-plan outputs #:allow-other-keys)
  (let ((out (assoc-ref outputs "out")))
    (for-each (match-lambda
                ((source target)
                 (let ((target (string-append out "/" target)))
                   (cond ((string-suffix? "/" source)   ;contents of SOURCE
                          (copy-tree (string-trim-right source #\/) target))
                         ((string-suffix? "/" target)   ;SOURCE beneath TARGET
                          (copy-tree source (string-append target (basename source))))
                         (else (copy-tree source target))))))
              install-plan)))

(define (elf-file? file)
  (and (eq? 'regular (stat:type (stat file)))
       (call-with-input-file file
         (lambda (port)
           (equal? (list #\x7f #\E #\L #\F)
                   (list (read-char port) (read-char port) (read-char port) (read-char port))))
         #:binary #t)))

(define (files-under dir)
  (if (file-exists? dir)
      (append-map (lambda (f)
                    (let ((file (string-append dir "/" f)))
                      (if (eq? 'directory (stat:type (lstat file)))
                          (files-under file)
                          (list file))))
                  (scandir dir (lambda (f) (not (member f '("." ".."))))))
      '()))

(define (elf-files outputs)
  (filter (lambda (file) (and (not (eq? 'symlink (stat:type (lstat file))))
                              (elf-file? file)))
          (append-map (match-lambda
                        ((_ . out)
                         (append-map (lambda (d) (files-under (string-append out "/" d)))
                                     '("bin" "sbin" "lib" "libexec"))))
                      outputs)))

(define* (strip #:key outputs (strip-binaries? #t) #:allow-other-keys)
  (when strip-binaries?
    (for-each (lambda (file)
                (format #t "stripping ~a~%" file)
                (invoke "strip" "--strip-debug" file))
              (elf-files outputs))))

(define (dynamic-entries file)
  ;; (needed ...) and (runpath-entry ...) of FILE, from readelf -d.
  (let* ((port (open-pipe* OPEN_READ "readelf" "-d" file))
         (lines (let loop ((acc '()))
                  (let ((line (read-line port)))
                    (if (eof-object? line) (reverse acc) (loop (cons line acc)))))))
    (close-pipe port)
    (define (values-of tag)
      (filter-map (lambda (line)
                    (let ((m (string-match (string-append "\\(" tag "\\).*\\[(.*)\\]") line)))
                      (and m (match:substring m 1))))
                  lines))
    (values (values-of "NEEDED")
            (append-map (lambda (v) (string-split v #\:)) (values-of "RUNPATH")))))

(define %libc-libraries
  '("libanl.so" "libcrypt.so" "libc.so" "libdl.so" "libm.so" "libnsl.so"
    "libpthread.so" "libresolv.so" "librt.so" "libutil.so"))

(define* (validate-runpath #:key outputs (validate-runpath? #t) #:allow-other-keys)
  (define store (or (getenv "NIX_STORE") "/gnu/store"))
  (define (valid? file)
    (call-with-values (lambda () (dynamic-entries file))
      (lambda (needed runpath)
        (let* ((runpath (filter (lambda (d) (string-prefix? (string-append store "/") d))
                                runpath))
               (needed (remove (lambda (lib)
                                 (any (lambda (p) (string-prefix? p lib)) %libc-libraries))
                               needed))
               (missing (remove (lambda (lib) (search-path runpath lib)) needed)))
          (for-each (lambda (lib)
                      (format (current-error-port)
                              "~a: error: depends on '~a', which cannot be found in RUNPATH ~s~%"
                              file lib runpath))
                    missing)
          (null? missing)))))
  (if validate-runpath?
      (let ((files (elf-files outputs)))
        (format #t "validating RUNPATH of ~a binaries~%" (length files))
        (unless (every valid? files)
          (error "RUNPATH validation failed")))
      (format #t "skipping RUNPATH validation~%")))

(define %standard-phases
  `((set-SOURCE-DATE-EPOCH . ,(log-only 'set-SOURCE-DATE-EPOCH))
    (set-paths . ,set-paths)
    (install-locale . ,(log-only 'install-locale))
    (unpack . ,unpack)
    (patch-usr-bin-file . ,(log-only 'patch-usr-bin-file))
    (patch-source-shebangs . ,(log-only 'patch-source-shebangs))
    (patch-generated-file-shebangs . ,(log-only 'patch-generated-file-shebangs))
    (install . ,install)
    (patch-shebangs . ,(log-only 'patch-shebangs))
    (strip . ,strip)
    (validate-runpath . ,validate-runpath)
    (validate-documentation-location . ,(log-only 'validate-documentation-location))
    (delete-info-dir-file . ,(log-only 'delete-info-dir-file))
    (patch-dot-desktop-files . ,(log-only 'patch-dot-desktop-files))
    (make-dynamic-linker-cache . ,(log-only 'make-dynamic-linker-cache))
    (install-license-files . ,(log-only 'install-license-files))
    (reset-gzip-timestamps . ,(log-only 'reset-gzip-timestamps))
    (compress-documentation . ,(log-only 'compress-documentation))))

(define* (copy-build #:key (phases %standard-phases) #:allow-other-keys #:rest args)
  (for-each (match-lambda
              ((name . proc)
               (format #t "starting phase `~a'~%" name)
               (apply proc args)))
            phases))
