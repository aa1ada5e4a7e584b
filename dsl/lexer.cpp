#include "dsl/lexer.h"

#include <algorithm>
#include <charconv>
#include <system_error>

#include "dsl/source_file.h"

namespace nos::dsl {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

// Length of the UTF-8 sequence starting at text[i], or 0 if it is not valid UTF-8 (overlong forms,
// surrogates and code points past U+10FFFF included). Plain ASCII gives 1.
std::size_t utf8_length(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return k < text.size() ? static_cast<unsigned char>(text[k]) : 0u; };
  unsigned lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length;
  unsigned low = 0x80, high = 0xBF;  // the valid range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) length = 2;
  else if (lead == 0xE0) length = 3, low = 0xA0;
  else if (lead == 0xED) length = 3, high = 0x9F;
  else if (lead >= 0xE1 && lead <= 0xEF) length = 3;
  else if (lead == 0xF0) length = 4, low = 0x90;
  else if (lead == 0xF4) length = 4, high = 0x8F;
  else if (lead >= 0xF1 && lead <= 0xF3) length = 4;
  else return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return length;
}

bool is_bad_control(unsigned char c) { return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F; }

SourceRange range_at(std::string_view text, std::size_t offset, std::size_t length) {
  SourceRange range{static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(length), 1, 1};
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') ++range.line, range.column = 1;
    else ++range.column;
  }
  return range;
}

// A binary file would otherwise surface as a baffling syntax error somewhere in the middle.
void check_is_text(const std::shared_ptr<const Source>& source) {
  std::string_view text = source->text;
  for (std::size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    std::size_t length = utf8_length(text, i);
    if (length == 0 || is_bad_control(c)) {
      constexpr char kDigits[] = "0123456789abcdef";  // dsl/ uses the standard library only, no fmt
      const char hex[] = {'0', 'x', kDigits[c >> 4], kDigits[c & 15], '\0'};
      fail(source, range_at(text, i, 1),
           "file is not text: byte " + std::string(hex) + " at offset " + std::to_string(i) +
               (length == 0 ? " (invalid UTF-8)" : ""));
    }
    i += length;
  }
}

// Checks `spelling` against  digits ['.' digits] [('e'|'E') ['+'|'-'] digits]  (with at least one
// mantissa digit). Returns an empty string when it fits, else what is wrong with it.
std::string number_problem(std::string_view s) {
  std::size_t i = 0, mantissa_digits = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++mantissa_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i, ++mantissa_digits;
  }
  if (mantissa_digits == 0) return "bad number '" + std::string(s) + "'";
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t exponent_digits = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++exponent_digits;
    if (exponent_digits == 0) return "bad number '" + std::string(s) + "': the exponent has no digits";
  }
  if (i != s.size()) return "bad number '" + std::string(s) + "'";
  return {};
}

class Lexer {
 public:
  explicit Lexer(const std::shared_ptr<const Source>& source) : source_(source), text_(source->text) {}

  std::vector<Token> run() {
    std::vector<Token> tokens;
    SourceRange end_range;
    while (i_ < text_.size()) {
      char c = text_[i_];
      if (c == '\n') {
        ++i_, ++line_, column_ = 1;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        advance(1);
      } else if (c == '#') {
        while (i_ < text_.size() && text_[i_] != '\n') advance(1);
      } else {
        tokens.push_back(next_token());
        end_range = {static_cast<std::uint32_t>(i_), 0, line_, column_};
      }
    }
    // With no tokens at all, End marks where the (blank or comment-only) text ends.
    if (tokens.empty()) end_range = here(0);
    tokens.push_back({TokenKind::End, std::string_view(), end_range, 0});
    return tokens;
  }

 private:
  Token next_token() {
    char c = text_[i_];
    char next = i_ + 1 < text_.size() ? text_[i_ + 1] : '\0';
    if (is_digit(c) || (c == '.' && is_digit(next))) return number();
    if (is_name_start(c)) {
      std::size_t length = 1;
      while (i_ + length < text_.size() && is_name_char(text_[i_ + length])) ++length;
      return take(TokenKind::Name, length);
    }
    switch (c) {
      case '+': return take(TokenKind::Plus, 1);
      case '-': return take(TokenKind::Minus, 1);
      case '*': return take(TokenKind::Star, 1);
      case '/': return take(TokenKind::Slash, 1);
      case '^': return take(TokenKind::Caret, 1);
      case '(': return take(TokenKind::LParen, 1);
      case ')': return take(TokenKind::RParen, 1);
      case ',': return take(TokenKind::Comma, 1);
      case ':': return take(TokenKind::Colon, 1);
      case ';': return take(TokenKind::Semicolon, 1);
      case '=': return take(TokenKind::Equals, 1);
      default: break;
    }
    std::size_t length = utf8_length(text_, i_);  // the text is valid UTF-8 by now
    fail(source_, here(length), "unexpected character '" + std::string(text_.substr(i_, length)) + "'");
  }

  // A number is scanned as the longest run that could belong to one (so "1.2.3" or "2x" is one bad
  // literal, not a number followed by something puzzling), then checked against the strict form.
  Token number() {
    std::size_t length = 0;
    while (i_ + length < text_.size()) {
      char c = text_[i_ + length];
      char previous = length > 0 ? text_[i_ + length - 1] : '\0';
      bool exponent_sign = (c == '+' || c == '-') && (previous == 'e' || previous == 'E');
      if (!(is_name_char(c) || c == '.' || exponent_sign)) break;
      ++length;
    }
    std::string_view spelling = text_.substr(i_, length);
    if (std::string problem = number_problem(spelling); !problem.empty()) fail(source_, here(length), problem);
    // Straight to float: going through double would round twice and could miss the nearest float.
    float value = 0;
    auto [end, error] = std::from_chars(spelling.data(), spelling.data() + spelling.size(), value);
    if (error == std::errc::result_out_of_range || end != spelling.data() + spelling.size())
      fail(source_, here(length), "number '" + std::string(spelling) + "' does not fit in float32");
    Token token = take(TokenKind::Number, length);
    token.number = value;
    return token;
  }

  SourceRange here(std::size_t length) const {
    return {static_cast<std::uint32_t>(i_), static_cast<std::uint32_t>(length), line_, column_};
  }

  Token take(TokenKind kind, std::size_t length) {
    Token token{kind, text_.substr(i_, length), here(length), 0};
    advance(length);
    return token;
  }

  void advance(std::size_t bytes) { i_ += bytes, column_ += static_cast<std::uint32_t>(bytes); }

  const std::shared_ptr<const Source>& source_;
  std::string_view text_;
  std::size_t i_ = 0;
  std::uint32_t line_ = 1, column_ = 1;
};

}  // namespace

std::vector<Token> lex(const std::shared_ptr<const Source>& source) {
  if (source->text.size() > kMaxSourceBytes)
    throw Error(Diagnostic{Severity::Error, nullptr, {},
                           source->name + ": the rule source is " + std::to_string(source->text.size()) +
                               " bytes; a rule source holds at most " + describe_size(kMaxSourceBytes)});
  check_is_text(source);
  return Lexer(source).run();
}

std::string describe(const Token& token) {
  if (token.kind == TokenKind::End) return "the end of the input";
  return "'" + std::string(token.text) + "'";
}

SourceRange span(const SourceRange& first, const SourceRange& last) {
  SourceRange range = first;
  std::uint32_t end = std::max(first.offset + first.length, last.offset + last.length);
  range.length = end - first.offset;
  return range;
}

void fail(const std::shared_ptr<const Source>& source, const SourceRange& range, std::string message) {
  throw Error(Diagnostic{Severity::Error, source, range, std::move(message)});
}

}  // namespace nos::dsl
