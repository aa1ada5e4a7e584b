#include <doctest/doctest.h>

#include <cfloat>
#include <memory>
#include <vector>

#include "dsl/lexer.h"

using namespace nos::dsl;

namespace {

// Tokens view the source's text, so the sources of a test stay alive until it ends.
std::vector<Token> lex_text(std::string text) {
  static std::vector<std::shared_ptr<const Source>> sources;
  sources.push_back(std::make_shared<Source>(Source{"<expr>", std::move(text)}));
  return lex(sources.back());
}

std::string lex_error(std::string text) {
  try {
    lex_text(std::move(text));
  } catch (const Error& e) {
    return e.diagnostic().message;
  }
  return "";
}

}  // namespace

TEST_CASE("lexer: token kinds and spellings") {
  auto tokens = lex_text("a: exp(g) + -1.5 * m / v ^ 2, w; beta2 = 0.9");
  std::vector<TokenKind> kinds;
  for (const Token& t : tokens) kinds.push_back(t.kind);
  using K = TokenKind;
  CHECK(kinds == std::vector<K>{K::Name, K::Colon, K::Name, K::LParen, K::Name, K::RParen, K::Plus, K::Minus,
                                K::Number, K::Star, K::Name, K::Slash, K::Name, K::Caret, K::Number, K::Comma,
                                K::Name, K::Semicolon, K::Name, K::Equals, K::Number, K::End});
  CHECK(tokens[2].text == "exp");
  CHECK(tokens[8].number == 1.5f);
  CHECK(tokens.back().text.empty());
}

TEST_CASE("lexer: number forms") {
  CHECK(lex_text("1e-8")[0].number == 1e-8f);
  CHECK(lex_text(".5")[0].number == 0.5f);
  CHECK(lex_text("5.")[0].number == 5.0f);
  CHECK(lex_text("2E+3")[0].number == 2000.0f);
  CHECK(lex_text("0.0001")[0].number == 1e-4f);
  CHECK(lex_text("3.4028235e38")[0].number == FLT_MAX);
  CHECK(lex_text("1e-45")[0].number > 0.0f);  // the smallest denormal still fits
  // 1e-8 is followed by a name, not part of it: "1e-8g" is one bad literal instead.
  CHECK(lex_text("1e-8 g").size() == 3);
}

TEST_CASE("lexer: numbers round to the nearest float32 directly") {
  // 1 + 2^-24 + 2^-60 is just above the midpoint between 1 and the next float: the nearest float
  // is 1 + 2^-23. Rounding through double first would land exactly on the midpoint and tie to 1.
  CHECK(lex_text("1.00000005960464477539930")[0].number == 1.00000011920928955078125f);
}

TEST_CASE("lexer: bad and out-of-range numbers") {
  CHECK(lex_error("1e") == "bad number '1e': the exponent has no digits");
  CHECK(lex_error("1e+") == "bad number '1e+': the exponent has no digits");
  CHECK(lex_error("1.2.3") == "bad number '1.2.3'");
  CHECK(lex_error("2g") == "bad number '2g'");
  CHECK(lex_error("0x10") == "bad number '0x10'");
  CHECK(lex_error("1e99") == "number '1e99' does not fit in float32");
  CHECK(lex_error("3.5e38") == "number '3.5e38' does not fit in float32");
  CHECK(lex_error("1e-50") == "number '1e-50' does not fit in float32");
  CHECK(lex_error("1e999999999999") == "number '1e999999999999' does not fit in float32");
}

TEST_CASE("lexer: comments and whitespace, positions across lines") {
  auto tokens = lex_text("# header\n\tg +  # trailing\r\n  m\n");
  REQUIRE(tokens.size() == 4);
  CHECK(tokens[0].range.line == 2);
  CHECK(tokens[0].range.column == 2);
  CHECK(tokens[0].range.offset == 10);
  CHECK(tokens[1].range.column == 4);
  CHECK(tokens[2].range.line == 3);
  CHECK(tokens[2].range.column == 3);
  // End sits right after the last token, so "the rule ends here" points at something visible.
  CHECK(tokens[3].range.line == 3);
  CHECK(tokens[3].range.column == 4);
  CHECK(tokens[3].range.length == 0);
}

TEST_CASE("lexer: control bytes and invalid UTF-8 mean the file is not text") {
  CHECK(lex_error(std::string("g\0", 2)) == "file is not text: byte 0x00 at offset 1");
  CHECK(lex_error("g\x1b") == "file is not text: byte 0x1b at offset 1");
  CHECK(lex_error("g\x7f") == "file is not text: byte 0x7f at offset 1");
  CHECK(lex_error("\xff") == "file is not text: byte 0xff at offset 0 (invalid UTF-8)");
  CHECK(lex_error("# \xc0\x80 overlong") == "file is not text: byte 0xc0 at offset 2 (invalid UTF-8)");
  CHECK(lex_error("# \xed\xa0\x80 surrogate") == "file is not text: byte 0xed at offset 2 (invalid UTF-8)");
  CHECK(lex_error("# \xe2\x82 truncated") == "file is not text: byte 0xe2 at offset 2 (invalid UTF-8)");
  // Valid UTF-8 is fine in comments, and a binary byte in a comment is still binary.
  CHECK(lex_error("g # \xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80") == "");
  CHECK(lex_error(std::string("g # \0", 5)) == "file is not text: byte 0x00 at offset 4");
}

TEST_CASE("lexer: unexpected characters") {
  CHECK(lex_error("g % m") == "unexpected character '%'");
  CHECK(lex_error("g \xc3\x97 m") == "unexpected character '\xc3\x97'");
  CHECK(lex_error("g . m") == "unexpected character '.'");
  try {
    lex_text("g \xc3\x97 m");
  } catch (const Error& e) {
    CHECK(e.diagnostic().range.offset == 2);
    CHECK(e.diagnostic().range.length == 2);  // the whole character, not its first byte
  }
}
