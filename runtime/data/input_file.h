// The check every data reader makes before it opens a file: a FIFO would block the reader forever,
// /dev/zero would feed it without end and a directory reads as nothing, so anything that is not a
// regular file (after following links) is refused by name, without being opened.
#pragma once

#include <string>

namespace nos::runtime {

// Throws DataError (idx.h) "PATH: cannot open: No such file or directory" or "PATH: is a FIFO,
// not a regular file" (a directory, a character device, ...).
void check_regular_file(const std::string& path);

}  // namespace nos::runtime
