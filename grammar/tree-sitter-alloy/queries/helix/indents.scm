; Helix indent captures.

[
  (block)
  (object)
  (array)
  (argument_list)
  (parenthesized_expression)
] @indent

[
  "}"
  "]"
  ")"
] @outdent
