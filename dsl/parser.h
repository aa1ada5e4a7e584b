// Text form -> syntax tree. Grammar (newlines are plain whitespace, `#` starts a comment):
//
//   module     := rule (';'? rule)* ';'?
//   rule       := [NAME ':'] definition* expr ['with' binding (',' binding)*]
//   definition := NAME '=' expr ';'                 # a named sub-expression, used by what follows
//   binding    := NAME '=' (NUMBER | '-' NUMBER | 'on' | 'off' | 'true' | 'false')
//   expr       := term (('+' | '-') term)*
//   term       := unary (('*' | '/') unary)*
//   unary      := '-' unary | power
//   power      := primary ['^' unary]            # right-associative, tighter than unary minus
//   primary    := NUMBER | NAME | NAME '(' expr (',' expr)* ')' | '(' expr ')'
//
// A NAME in an expression is a definition of the rule made before it (its uses share one tree), an
// operand, a setting (an Expr::Constant valued by Rule::settings, as in the vocabulary's
// `div(m, sqrt(v), adam_eps)`), or a named constant that the rule's `with` clause must bind; `with`
// is reserved. Every definition must be used. div's optional third argument, its delta, must be
// constant; constant arguments with a domain (clip's bound >= 0, drop's probability in [0, 1], div's
// delta in the `delta` setting's range) are checked. A second rule must be named (`name: ...`) or
// follow a ';'. Every error is a dsl::Error whose diagnostic names the place and what was expected.
// Any byte string gives a Module or a dsl::Error: nesting, and the height of the tree as it prints
// back from the IR, are capped at kMaxHeight (ast.h); a source holds at most kMaxSourceBytes and
// kMaxRules rules (source_file.h). Linear in the text's length.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "dsl/ast.h"

namespace nos::dsl {

// What parsing cost, for tests that check it stays linear in the input.
struct ParseStats {
  std::size_t name_comparisons = 0;  // keys compared in the name tables (rule names, bindings, ...)
};

Module parse_module(std::shared_ptr<const Source> source, ParseStats* stats = nullptr);

// Reads and parses a file; a missing, unreadable, empty or binary file is a dsl::Error too, and so
// is anything but a regular file (refused before it is opened) and a file over kMaxSourceBytes.
Module parse_file(const std::string& path);

// Parses text that must hold exactly one rule (e.g. `nosc -e EXPR`).
Rule parse_rule(std::string_view text, std::string source_name = "<expr>");

}  // namespace nos::dsl
