// A search's configuration as a file (`run --config F`: read bounded, parsed strictly, with every
// mistake placed) or as stored in its database (what run --resume, workers and final read).
// Torch-free.
#pragma once

#include <string>

#include "controller/search/search_config.h"

namespace nos::search {

// A configuration is a few hundred bytes; a file above this is a wrong file, not a configuration.
inline constexpr std::size_t kMaxConfigFileBytes = 1 << 20;

// The configuration in `path`. Throws ConfigError (the CLI exits 1) whose message starts with the
// file: not a regular file (a FIFO, a device, a directory), larger than kMaxConfigFileBytes, not
// valid JSON (with its line and column: a number out of double's range is one), a key given twice
// in one object (JSON would silently keep the last), then whatever config_from_json refuses.
SearchConfig read_config_file(const std::string& path);

// The search's stored configuration (`location`: the database, as messages show it); StorageError
// naming it when the text is not JSON, ConfigError when it does not read (a database written by
// another NOS).
SearchConfig stored_config(const SearchInfo& search, const std::string& location);

}  // namespace nos::search
