; Scopes and references for nvim-treesitter's locals module.
;
; Alloy has no local variables for these queries to define: a block's attributes cannot be
; referred to by name, and expressions name components by dotted paths
; (`prometheus.remote_write.default.receiver`, `argument.NAME.value` inside a `declare`),
; which single-identifier definitions cannot describe. So each block is a scope and the
; identifier an expression starts with is a reference; there are no @local.definition
; captures (the language server's go-to-definition covers component references).

(source_file) @local.scope

(block) @local.scope

(member_expression
  object: (identifier) @local.reference)

(index_expression
  object: (identifier) @local.reference)

(call_expression
  function: (identifier) @local.reference)

(binary_expression
  left: (identifier) @local.reference)

(binary_expression
  right: (identifier) @local.reference)

(unary_expression
  operand: (identifier) @local.reference)

(attribute
  value: (identifier) @local.reference)

(array
  (identifier) @local.reference)

(argument_list
  (identifier) @local.reference)

(object_field
  value: (identifier) @local.reference)

(parenthesized_expression
  (identifier) @local.reference)
