// The size limits of a rule source, and reading an input file in bounded memory and time: only a
// regular file, checked before it is opened (a FIFO would block, /dev/zero never ends, a directory
// holds no text), and at most a given number of bytes, read in pieces. Rule files (parser.h's
// parse_file) and nosc eval's STEPS.json are read this way.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace nos::dsl {

// What one rule source (a rule file, -e text, a token sequence) may hold, so that every tool that
// reads rules works in memory and time proportional to a bounded input: the parser keeps a token
// (~40 bytes) per input byte and a tree node per token, and each rule costs its compile. The
// longest rule ast.h's kMaxGroups allows prints in about 10 KB, so 1 MiB holds a hundred of those
// or thousands of ordinary rules; 10,000 rules check in about a second (docs/dsl.md, Limits).
inline constexpr std::size_t kMaxSourceBytes = std::size_t{1} << 20;
inline constexpr int kMaxRules = 10000;

// The whole content of `path`, which must be a regular file (symbolic links followed) of at most
// `max_bytes` bytes; `what` names the kind of file in messages ("rule file"). Throws dsl::Error,
// without a place, naming the path and why: missing, unreadable, not a regular file, too large.
std::string read_file(const std::string& path, std::size_t max_bytes, std::string_view what);

// "1 MiB (1048576 bytes)", "100 bytes": how messages state a size limit.
std::string describe_size(std::size_t bytes);

}  // namespace nos::dsl
