// Writing an output file all at once or not at all: every tool's output files (nosc compile -o,
// nos-train --json, nos-bench --json, nos-search export -o, final --json, the report's files) go
// through here, so a full disk or a failed write never leaves a truncated or 0-byte file behind,
// and never destroys the file an earlier run wrote there.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace nos::support {

// A file that cannot be written (or opened for writing): every tool reports it and exits 1
// (tools/tool_main.h). A std::system_error, so that its errno stays with it.
struct FileError : std::system_error {
  FileError(int error, const std::string& what) : std::system_error(error, std::generic_category(), what) {}
};

// Writes `bytes` to a new temporary file in `path`'s directory (so that the rename stays on one
// file system), flushes it to the disk, then renames it over `path`. On any failure the temporary
// file is removed, `path` is left as it was, and FileError is thrown: its message names
// `path`, after `what` when given (e.g. "--json: cannot write 'r.json': No space left on device").
// A symbolic link at `path` is replaced by the file, not followed.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes, std::string_view what = {});

// Throws now, as write_file_atomically would later, when `path` cannot be written (a missing
// directory, a directory at `path`, a read-only file system): creates and removes a temporary file
// beside it. For tools that write their output after minutes of work.
void check_writable(const std::filesystem::path& path, std::string_view what = {});

}  // namespace nos::support
