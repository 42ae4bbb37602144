// External scanner for tree-sitter-alloy: statement terminators.
//
// Alloy's scanner (like Go's) inserts a terminator at a newline when the last token on the
// line was an identifier, a literal, `)`, `]` or `}`, and before a comment that runs to the
// end of such a line. Tree-sitter cannot see the previous token, but the parser's valid
// symbols say whether one of those tokens just ended: `,`, `*`, `=` and `.` are valid only
// right after an expression, an identifier or a string, and `{` without `!` only after a
// block header. There a newline is a terminator: a real one where a statement may end
// (`_terminator` is valid), and an error token everywhere else, as in Alloy (a multi-line
// list needs a comma after its last item, a block header must stay on one line).

#include "tree_sitter/parser.h"

#include <stdbool.h>

enum TokenType {
  TERMINATOR,
  COMMA,
  STAR,
  EQUALS,
  DOT,
  LBRACE,
  BANG,
  ERROR_SENTINEL,
};

void *tree_sitter_alloy_external_scanner_create(void) { return NULL; }
void tree_sitter_alloy_external_scanner_destroy(void *payload) { (void)payload; }
unsigned tree_sitter_alloy_external_scanner_serialize(void *payload, char *buffer) {
  (void)payload;
  (void)buffer;
  return 0;
}
void tree_sitter_alloy_external_scanner_deserialize(void *payload, const char *buffer,
                                                    unsigned length) {
  (void)payload;
  (void)buffer;
  (void)length;
}

static void skip(TSLexer *lexer) { lexer->advance(lexer, true); }
static void advance(TSLexer *lexer) { lexer->advance(lexer, false); }

static bool at_line_space(TSLexer *lexer) {
  return lexer->lookahead == ' ' || lexer->lookahead == '\t' || lexer->lookahead == '\r';
}

// At a `/` that may open a comment: does this comment (and any block comments after it on
// the same line) run to the end of the line? Mirrors `comment_reaches_line_end` in
// syntax/src/lexer.rs. Consumes characters; the caller has marked the token's end already.
static bool comment_reaches_line_end(TSLexer *lexer) {
  advance(lexer);  // the first '/'
  while (lexer->lookahead == '/' || lexer->lookahead == '*') {
    if (lexer->lookahead == '/') return true;
    advance(lexer);  // '*'
    bool finished = false;
    while (!lexer->eof(lexer)) {
      int32_t c = lexer->lookahead;
      if (c == '\n') return true;
      advance(lexer);
      if (c == '*' && lexer->lookahead == '/') {
        advance(lexer);
        finished = true;
        break;
      }
    }
    if (!finished) return true;
    while (at_line_space(lexer)) advance(lexer);
    if (lexer->eof(lexer) || lexer->lookahead == '\n') return true;
    if (lexer->lookahead != '/') return false;
    advance(lexer);  // the next comment's '/'
  }
  return false;
}

bool tree_sitter_alloy_external_scanner_scan(void *payload, TSLexer *lexer,
                                             const bool *valid_symbols) {
  (void)payload;
  if (valid_symbols[ERROR_SENTINEL]) return false;  // error recovery: let the lexer lex

  bool after_end = valid_symbols[TERMINATOR] || valid_symbols[COMMA] || valid_symbols[STAR] ||
                   valid_symbols[EQUALS] || valid_symbols[DOT] ||
                   (valid_symbols[LBRACE] && !valid_symbols[BANG]);
  if (!after_end) return false;

  while (at_line_space(lexer)) skip(lexer);
  lexer->result_symbol = TERMINATOR;
  if (lexer->lookahead == '\n') {
    advance(lexer);
    lexer->mark_end(lexer);
    return true;
  }
  if (lexer->lookahead == '/') {
    // A zero-width terminator before the comment, which the lexer then reads as usual.
    lexer->mark_end(lexer);
    return comment_reaches_line_end(lexer);
  }
  return false;
}
