// What NOS reads as an input file (a rule file, a search database, a data set, a kernel cache
// entry) must be a regular file: opening a FIFO waits for a writer that may never come, a device
// such as /dev/zero never ends, a directory holds no data. One test of the path, shared by every
// reader and made before anything opens it, so that such a path is refused at once, named. (The
// kernel cache, which reads through its own descriptor, tests that descriptor the same way.)
#pragma once

#include <filesystem>
#include <string>

namespace nos::dsl {

// What `path` is when it is not a regular file, following symbolic links: "a directory", "a FIFO
// (named pipe)", "a character device", "a block device", "a socket" (or "something other than a
// regular file"); "" for a regular file, or a path that does not exist or cannot be examined (the
// open that follows says why).
std::string non_regular_kind(const std::filesystem::path& path);

}  // namespace nos::dsl
