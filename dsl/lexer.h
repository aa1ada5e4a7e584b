// Text -> tokens, for both the rule language (parser.cpp) and the token form (tokens.cpp).
//
// The whole text is checked first: a NUL or other control byte, or invalid UTF-8, means the input
// is not a rule file at all, and saying so beats a confusing syntax error. Every token keeps its
// place so that every later error can point at it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/diagnostic.h"

namespace nos::dsl {

enum class TokenKind : std::uint8_t {
  Number,     // 1, 0.5, .5, 5., 1e-8
  Name,       // [A-Za-z_][A-Za-z0-9_]*
  Plus, Minus, Star, Slash, Caret, LParen, RParen, Comma, Colon, Semicolon, Equals,
  End,        // always the last token; placed just after the last real token
};

struct Token {
  TokenKind kind;
  std::string_view text;  // the spelling, a view into Source::text (empty for End)
  SourceRange range;
  float number = 0;       // Number: the literal's value, correctly rounded to float32
};

// Never returns an empty vector: the last token is End. Throws dsl::Error.
std::vector<Token> lex(const std::shared_ptr<const Source>& source);

// "'*'" or "the end of the rule": how messages name the token they found.
std::string describe(const Token& token);

// The range covering `first` through `last` (both inclusive), for nodes built from many tokens.
SourceRange span(const SourceRange& first, const SourceRange& last);

// Throws a dsl::Error pointing at `range` of `source`.
[[noreturn]] void fail(const std::shared_ptr<const Source>& source, const SourceRange& range,
                       std::string message);

}  // namespace nos::dsl
