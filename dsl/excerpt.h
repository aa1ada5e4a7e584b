// Quoting input of any size in a message: diagnostic.cpp's render() cuts its message to
// kMaxMessageBytes and shows at most kMaxLineBytes of the source line around the caret, so a
// one-line 1 MiB rule gives a short error; the compiler and the tools quote names and rules
// through excerpt() too.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace nos::dsl {

inline constexpr std::size_t kMaxMessageBytes = 2000;
inline constexpr std::size_t kMaxLineBytes = 160;

// `text` itself when it has at most `max_bytes` bytes, else its start (cut between UTF-8
// characters) and "... (N bytes in all)".
std::string excerpt(std::string_view text, std::size_t max_bytes = kMaxMessageBytes);

}  // namespace nos::dsl
