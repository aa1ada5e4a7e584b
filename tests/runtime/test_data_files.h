// Small data files for the runtime's tests, written under the build tree: IDX (plain or gzipped
// with zlib), truncated IDX, and CSV tables of separable classes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nos::testing {

// A fresh empty directory under build/test-tmp/<pid>/.
std::string temp_dir(const std::string& name);

// An IDX file of unsigned bytes: header for `dims`, then `data` (which may be shorter than the
// header promises, to make a truncated file). Gzipped when `gzip`.
void write_idx(const std::string& path, const std::vector<std::int64_t>& dims, const std::vector<std::uint8_t>& data,
               bool gzip);

// An IDX header for `dims` followed by `zero_bytes` zero bytes, however many the header promises,
// without holding them in memory: gzipped (a gzip bomb: 1 GiB of zeros is about 1 MiB on disk), or
// plain as a sparse file.
void write_idx_zeros(const std::string& path, const std::vector<std::int64_t>& dims, std::uint64_t zero_bytes, bool gzip);

// `n` images of h x w pixels in `classes` classes, each class a different brightness band, written
// as PREFIX-images-idx3-ubyte[.gz] and PREFIX-labels-idx1-ubyte[.gz].
void write_idx_pair(const std::string& prefix, std::int64_t n, std::int64_t h, std::int64_t w, int classes, bool gzip);

// A CSV of `rows` examples with `features` columns and a label column: Gaussian blobs around
// class-dependent centres, easily separable. With a header line when `header`.
std::string write_blobs_csv(const std::string& path, int rows, int features, int classes, bool header,
                            std::uint64_t seed = 1);

void write_text(const std::string& path, const std::string& text);
std::vector<std::uint8_t> read_bytes(const std::string& path);

}  // namespace nos::testing
