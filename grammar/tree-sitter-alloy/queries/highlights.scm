; Capture names follow nvim-treesitter's conventions (see ../README.md for Helix and Zed).
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
  name: (identifier) @property)

(object_field
  key: (identifier) @property)

(object_field
  key: [(string (string_content) @property) (raw_string (string_content) @property)])

; Field access: `prometheus.remote_write.default.receiver`
(member_expression
  field: (identifier) @variable.member)

; Function calls: `concat(...)`, `sys.env(...)`, `encoding.from_json(...)`
(call_expression
  function: (identifier) @function.call)

(call_expression
  function: (member_expression
    field: (identifier) @function.call))

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

(escape_sequence) @string.escape

(number) @number

(float) @number.float

[
  (true)
  (false)
] @boolean

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
