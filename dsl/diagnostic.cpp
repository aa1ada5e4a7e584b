#include "dsl/diagnostic.h"

#include <algorithm>

namespace nos::dsl {

std::string Diagnostic::render() const {
  std::string out;
  if (source) {
    out += source->name + ":" + std::to_string(range.line) + ":" + std::to_string(range.column) + ": ";
  }
  out += severity == Severity::Error ? "error: " : severity == Severity::Warning ? "warning: " : "note: ";
  out += message;
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
  std::string line = text.substr(begin, end - begin);
  // Control bytes would garble the terminal; show them as '?', byte for byte, so the caret lines up.
  for (char& c : line)
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') c = '?';
  out += "  " + line + '\n';
  std::string caret(offset - begin, ' ');
  for (std::size_t i = 0; i < caret.size(); ++i)
    if (line[i] == '\t') caret[i] = '\t';
  caret += '^';
  std::size_t width = std::min<std::size_t>(range.length, end - offset);  // the range may run past the line
  if (width > 1) caret += std::string(width - 1, '~');
  out += "  " + caret + '\n';
  return out;
}

Error::Error(Diagnostic diagnostic) : std::runtime_error(diagnostic.render()), diagnostic_(std::move(diagnostic)) {}

}  // namespace nos::dsl
