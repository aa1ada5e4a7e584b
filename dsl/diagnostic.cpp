#include "dsl/diagnostic.h"

#include <algorithm>

#include "dsl/excerpt.h"

namespace nos::dsl {

namespace {

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The largest cut <= `at` that does not split a UTF-8 character of `text`.
std::size_t character_start(std::string_view text, std::size_t at) {
  while (at > 0 && at < text.size() && is_continuation(text[at])) --at;
  return at;
}

}  // namespace

std::string excerpt(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::string out(text.substr(0, character_start(text, max_bytes)));
  return out + "... (" + std::to_string(text.size()) + " bytes in all)";
}

// Bounded whatever the input (excerpt.h): the message is cut, a long line shown as a window.
std::string Diagnostic::render() const {
  std::string out;
  if (source) {
    out += excerpt(source->name, 1000) + ":" + std::to_string(range.line) + ":" + std::to_string(range.column) + ": ";
  }
  out += severity == Severity::Error ? "error: " : severity == Severity::Warning ? "warning: " : "note: ";
  out += excerpt(message);
  out += '\n';
  if (!source) return out;

  const std::string& text = source->text;
  std::size_t offset = std::min<std::size_t>(range.offset, text.size());
  // The line holding `offset`: from just after the previous newline (or the start) to the next one.
  std::size_t begin = 0;
  if (offset > 0) {
    std::size_t newline = text.rfind('\n', offset - 1);
    if (newline != std::string::npos) begin = newline + 1;
  }
  std::size_t end = text.find('\n', offset);
  if (end == std::string::npos) end = text.size();
  // A long line is shown as a window around the caret, marked "..." where it is cut.
  std::string_view whole(text);
  std::size_t first = begin, last = end;
  if (end - begin > kMaxLineBytes) {
    first = character_start(whole, std::max(begin, offset > kMaxLineBytes / 2 ? offset - kMaxLineBytes / 2 : 0));
    last = std::min(end, first + kMaxLineBytes);
    if (last < end) last = std::max(character_start(whole, last), offset);
  }
  std::string before = first > begin ? "..." : "";
  std::string line = before + text.substr(first, last - first) + (last < end ? "..." : "");
  // Control bytes would garble the terminal; show them as '?', byte for byte, so the caret lines up.
  for (char& c : line)
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') c = '?';
  out += "  " + line + '\n';
  std::string caret(before.size() + offset - first, ' ');
  for (std::size_t i = 0; i < caret.size(); ++i)
    if (line[i] == '\t') caret[i] = '\t';
  caret += '^';
  std::size_t width = std::min<std::size_t>(range.length, last - offset);  // the range may run past the line
  if (width > 1) caret += std::string(width - 1, '~');
  out += "  " + caret + '\n';
  return out;
}

Error::Error(Diagnostic diagnostic) : std::runtime_error(diagnostic.render()), diagnostic_(std::move(diagnostic)) {}

}  // namespace nos::dsl
