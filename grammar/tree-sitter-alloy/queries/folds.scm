[
  (block)
  (object)
  (array)
  (argument_list)
  (raw_string)
] @fold

(comment) @fold
