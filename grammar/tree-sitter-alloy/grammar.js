/**
 * @file Tree-sitter grammar for the Grafana Alloy configuration language.
 * @license Apache-2.0
 *
 * Follows ../alloy.ebnf (the grammar the `syntax` crate parses). Newlines end statements the
 * way Go's scanner inserts semicolons: src/scanner.c emits the `_terminator` token at a newline
 * (or before a comment that runs to the end of the line) that follows a complete expression,
 * and makes a newline an error wherever the Alloy scanner's inserted terminator would be one
 * (for example after the last item of a multi-line list without a trailing comma).
 */

/* eslint-disable arrow-parens, camelcase */
/// <reference types="tree-sitter-cli/dsl" />
// @ts-check

const PREC = {
  or: 1,
  and: 2,
  compare: 3,
  add: 4,
  multiply: 5,
  power: 6,
  unary: 7,
};

const IDENT = /[\p{L}_][\p{L}\p{Nd}_]*/;

/**
 * @param {RuleOrLiteral} rule
 * @param {RuleOrLiteral} sep
 */
function sepTrailing(rule, sep) {
  return seq(rule, repeat(seq(sep, rule)), optional(sep));
}

module.exports = grammar({
  name: 'alloy',

  word: $ => $.identifier,

  extras: $ => [/\s/, $.comment],

  externals: $ => [
    $._terminator,
    // Literal tokens listed here so the scanner can tell from the parser's valid symbols
    // that the previous token ended an expression (it never produces them itself).
    ',',
    '*',
    '=',
    '.',
    '{',
    '!',
    $._error_sentinel,
  ],

  supertypes: $ => [$._expression, $._primary_expression],

  rules: {
    source_file: $ => optional($._body),

    _body: $ => seq(
      $._statement,
      repeat(seq($._terminator, $._statement)),
      optional($._terminator),
    ),

    _statement: $ => choice($.attribute, $.block),

    attribute: $ => seq(
      field('name', $.identifier),
      '=',
      field('value', $._expression),
    ),

    block: $ => seq(
      field('name', $.block_name),
      optional(field('label', $.block_label)),
      '{',
      optional($._body),
      '}',
    ),

    block_name: $ => seq($.identifier, repeat(seq('.', $.identifier))),

    // The label's text must be an identifier ("" means no label).
    block_label: _ => token(seq('"', optional(IDENT), '"')),

    _expression: $ => choice(
      $._primary_expression,
      $.unary_expression,
      $.binary_expression,
    ),

    _primary_expression: $ => choice(
      $.identifier,
      $.string,
      $.raw_string,
      $.number,
      $.float,
      $.true,
      $.false,
      $.null,
      $.array,
      $.object,
      $.parenthesized_expression,
      $.member_expression,
      $.index_expression,
      $.call_expression,
    ),

    unary_expression: $ => prec(PREC.unary, seq(
      field('operator', choice('!', '-')),
      field('operand', $._expression),
    )),

    binary_expression: $ => {
      const table = [
        [prec.left, PREC.or, '||'],
        [prec.left, PREC.and, '&&'],
        [prec.left, PREC.compare, choice('==', '!=', '<', '<=', '>', '>=')],
        [prec.left, PREC.add, choice('+', '-')],
        [prec.left, PREC.multiply, choice('*', '/', '%')],
        [prec.right, PREC.power, '^'],
      ];
      return choice(...table.map(([fn, level, operator]) =>
        // @ts-ignore
        fn(level, seq(
          field('left', $._expression),
          // @ts-ignore
          field('operator', operator),
          field('right', $._expression),
        )),
      ));
    },

    member_expression: $ => seq(
      field('object', $._primary_expression),
      '.',
      field('field', $.identifier),
    ),

    index_expression: $ => seq(
      field('object', $._primary_expression),
      '[',
      field('index', $._expression),
      ']',
    ),

    call_expression: $ => seq(
      field('function', $._primary_expression),
      field('arguments', $.argument_list),
    ),

    argument_list: $ => seq('(', optional(sepTrailing($._expression, ',')), ')'),

    parenthesized_expression: $ => seq('(', $._expression, ')'),

    array: $ => seq('[', optional(sepTrailing($._expression, ',')), ']'),

    object: $ => seq('{', optional(sepTrailing($.object_field, ',')), '}'),

    object_field: $ => seq(
      field('key', choice($.identifier, $.string, $.raw_string)),
      '=',
      field('value', $._expression),
    ),

    identifier: _ => IDENT,

    string: $ => seq(
      '"',
      optional(alias($._string_body, $.string_content)),
      token.immediate('"'),
    ),

    _string_body: $ => repeat1(choice(
      token.immediate(prec(1, /[^"\\\n]+/)),
      $.escape_sequence,
    )),

    escape_sequence: _ => token.immediate(seq('\\', choice(
      /[abfnrtv\\"]/,
      /[0-3][0-7][0-7]/,
      /x[0-9a-fA-F]{2}/,
      /u[0-9a-fA-F]{4}/,
      /U[0-9a-fA-F]{8}/,
    ))),

    raw_string: $ => seq(
      '`',
      optional(alias(token.immediate(prec(1, /[^`]+/)), $.string_content)),
      token.immediate('`'),
    ),

    number: _ => /[0-9]+/,

    float: _ => {
      const decimals = /[0-9]+/;
      const exponent = seq(/[eE]/, optional(/[+-]/), decimals);
      return token(choice(
        seq(decimals, '.', optional(decimals), optional(exponent)),
        seq('.', decimals, optional(exponent)),
        seq(decimals, exponent),
      ));
    },

    true: _ => 'true',
    false: _ => 'false',
    null: _ => 'null',

    comment: _ => token(choice(
      seq('//', /[^\n]*/),
      seq('/*', /[^*]*\*+([^/*][^*]*\*+)*/, '/'),
    )),
  },
});
