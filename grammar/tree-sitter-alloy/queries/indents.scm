; nvim-treesitter indent captures (Helix and Zed use their own names; see ../README.md).

[
  (block)
  (object)
  (array)
  (argument_list)
  (parenthesized_expression)
] @indent.begin

[
  "}"
  "]"
  ")"
] @indent.branch @indent.end

(comment) @indent.auto

(raw_string) @indent.ignore
