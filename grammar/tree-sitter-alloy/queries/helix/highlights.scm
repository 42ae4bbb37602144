; Generated: sed -f queries/helix/map.sed queries/highlights.scm (Helix's capture names).
;
; Where two patterns capture the same node, the later pattern wins (Neovim, and tree-sitter's
; own highlighter as of 0.27), so specific patterns come after general ones.

(comment) @comment

; Blocks: `prometheus.scrape "default" { ... }`
(block
  name: (block_name
    (identifier) @type))

(block_label) @label

; Attributes and object keys
(attribute
  name: (identifier) @variable.other.member)

(object_field
  key: (identifier) @variable.other.member)

(object_field
  key: [(string (string_content) @variable.other.member) (raw_string (string_content) @variable.other.member)])

; Field access: `prometheus.remote_write.default.receiver`
(member_expression
  field: (identifier) @variable.other.member)

; Function calls: `concat(...)`, `sys.env(...)`, `encoding.from_json(...)`
(call_expression
  function: (identifier) @function)

(call_expression
  function: (member_expression
    field: (identifier) @function))

; Identifiers in expressions (the ones above are not in these positions)
(attribute
  value: (identifier) @variable)

(object_field
  value: (identifier) @variable)

(array
  (identifier) @variable)

(argument_list
  (identifier) @variable)

(parenthesized_expression
  (identifier) @variable)

(binary_expression
  left: (identifier) @variable)

(binary_expression
  right: (identifier) @variable)

(unary_expression
  operand: (identifier) @variable)

(member_expression
  object: (identifier) @variable)

(index_expression
  object: (identifier) @variable)

(index_expression
  index: (identifier) @variable)

; Literals
(string) @string

(raw_string) @string

(escape_sequence) @constant.character.escape

(number) @constant.numeric.integer

(float) @constant.numeric.float

[
  (true)
  (false)
] @constant.builtin.boolean

(null) @constant.builtin

; Operators and punctuation
[
  "!"
  "-"
  "+"
  "*"
  "/"
  "%"
  "^"
  "=="
  "!="
  "<"
  "<="
  ">"
  ">="
  "&&"
  "||"
] @operator

"=" @operator

[
  "("
  ")"
  "["
  "]"
  "{"
  "}"
] @punctuation.bracket

[
  ","
  "."
] @punctuation.delimiter
