;;; Stand-in for Guix's (guix packages), for tests/guix_channel_test.ts: the
;;; `package' and `origin' records with Guix's field names and defaults, and
;;; `base32', which checks its literal at expansion time as Guix does (it
;;; keeps the string instead of decoding it to a bytevector).

(define-module (guix packages)
  #:use-module (guix records)
  #:export (package
            package?
            package-name
            package-version
            package-source
            package-build-system
            package-arguments
            package-inputs
            package-native-inputs
            package-propagated-inputs
            package-outputs
            package-native-search-paths
            package-search-paths
            package-supported-systems
            package-synopsis
            package-description
            package-license
            package-home-page
            package-properties
            origin
            origin?
            origin-method
            origin-uri
            origin-sha256
            origin-file-name
            base32
            search-path-specification
            search-path-specification?
            search-path-specification-variable
            search-path-specification-files))

(define-record-type* <search-path-specification>
  search-path-specification make-search-path-specification
  search-path-specification?
  (variable search-path-specification-variable)
  (files search-path-specification-files)
  (separator search-path-specification-separator (default ":"))
  (file-type search-path-specification-file-type (default 'directory))
  (file-pattern search-path-specification-file-pattern (default #f)))

(define-record-type* <origin>
  origin make-origin
  origin?
  (uri origin-uri)
  (method origin-method)
  (hash origin-hash (default #f))
  (sha256 origin-sha256 (default #f))
  (file-name origin-file-name (default #f))
  (patches origin-patches (default '()))
  (snippet origin-snippet (default #f))
  (modules origin-modules (default '())))

(define-record-type* <package>
  package make-package
  package?
  (name package-name)
  (version package-version)
  (source package-source)
  (build-system package-build-system)
  (arguments package-arguments (default '()))
  (inputs package-inputs (default '()))
  (propagated-inputs package-propagated-inputs (default '()))
  (native-inputs package-native-inputs (default '()))
  (outputs package-outputs (default '("out")))
  (native-search-paths package-native-search-paths (default '()))
  (search-paths package-search-paths (default '()))
  (replacement package-replacement (default #f))
  (synopsis package-synopsis)
  (description package-description)
  (license package-license)
  (home-page package-home-page)
  (supported-systems package-supported-systems (default '("x86_64-linux")))
  (properties package-properties (default '()))
  (location package-location (default #f)))

(define-syntax base32
  (lambda (s)
    (syntax-case s ()
      ((_ str)
       (let ((text (syntax->datum #'str)))
         (and (string? text)
              (= 52 (string-length text))
              (string-every (string->char-set "0123456789abcdfghijklmnpqrsvwxyz")
                            text)))
       #'(list 'base32 str)))))
