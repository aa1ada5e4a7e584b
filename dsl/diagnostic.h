// Source positions and the one error type of the front end, rendered like a compiler's errors:
//   rule.dsl:1:5: error: unknown name 'sgin'; did you mean 'sign'?
//     exp(sgin(g) * sign_m) * g
//         ^~~~
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace nos::dsl {

// The text being parsed and where it came from ("<expr>" for -e, "<tokens>" for token input).
struct Source {
  std::string name;
  std::string text;
};

struct SourceRange {
  std::uint32_t offset = 0;  // byte offset into Source::text
  std::uint32_t length = 0;
  std::uint32_t line = 1;    // 1-based
  std::uint32_t column = 1;  // 1-based, in bytes
};

enum class Severity { Error, Warning, Note };

struct Diagnostic {
  Severity severity = Severity::Error;
  std::shared_ptr<const Source> source;  // may be null for errors without a place
  SourceRange range;
  std::string message;

  // "file:line:col: error: message", then the source line and a caret under the range.
  std::string render() const;
};

// Thrown by the front end (and by the compiler for errors that have a place in a rule's text).
class Error : public std::runtime_error {
 public:
  explicit Error(Diagnostic diagnostic);
  const Diagnostic& diagnostic() const { return diagnostic_; }

 private:
  Diagnostic diagnostic_;
};

}  // namespace nos::dsl
