# nvim-treesitter capture names -> Helix's (scripts/test-tree-sitter checks
# queries/helix/highlights.scm is this applied to queries/highlights.scm).
s/@number\.float/@constant.numeric.float/g
s/@number/@constant.numeric.integer/g
s/@boolean/@constant.builtin.boolean/g
s/@string\.escape/@constant.character.escape/g
s/@property/@variable.other.member/g
s/@variable\.member/@variable.other.member/g
s/@function\.call/@function/g
s/^; Capture names follow nvim-treesitter's conventions.*$/; Generated: sed -f queries\/helix\/map.sed queries\/highlights.scm (Helix's capture names)./
