; Regular expressions: the value of an attribute or object key named `regex` or ending in
; `_regex` (relabel rules, `loki.process` stages, ...) is RE2 syntax. The whole string
; content is injected, escape sequences included (`\\d` reads as `\d` to the regex parser
; only in raw strings, so backtick strings highlight best).
((attribute
  name: (identifier) @_name
  value: [
    (string (string_content) @injection.content)
    (raw_string (string_content) @injection.content)
  ])
  (#match? @_name "^(regex|.*_regex)$")
  (#set! injection.language "regex")
  (#set! injection.include-children))

((object_field
  key: (identifier) @_name
  value: [
    (string (string_content) @injection.content)
    (raw_string (string_content) @injection.content)
  ])
  (#match? @_name "^(regex|.*_regex)$")
  (#set! injection.language "regex")
  (#set! injection.include-children))

; OTTL statements (`otelcol.processor.transform`'s `statements`, `otelcol.processor.filter`'s
; conditions) are not injected: no tree-sitter grammar for OTTL exists in nvim-treesitter,
; Helix or Zed to inject them into. The language server checks OTTL strings instead.
