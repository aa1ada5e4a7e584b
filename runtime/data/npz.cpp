#include "runtime/data/npz.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "runtime/data/idx.h"
#include "runtime/data/input_file.h"

namespace nos::runtime {
namespace {

constexpr std::uint32_t kEndSignature = 0x06054b50, kDirectorySignature = 0x02014b50, kLocalSignature = 0x04034b50,
                        kZip64LocatorSignature = 0x07064b50;
constexpr std::uint64_t kEndSize = 22, kDirectoryEntrySize = 46, kLocalHeaderSize = 30, kMaxComment = 0xFFFF;
constexpr std::uint64_t kMaxDirectory = 16 << 20;  // an .npz of a few arrays has a directory of a few hundred bytes

[[noreturn]] void fail(const std::string& name, const std::string& what) { throw DataError(name + ": " + what); }

struct Fd {
  int fd = -1;
  explicit Fd(const std::string& path) : fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  }
  ~Fd() { ::close(fd); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

// Exactly `n` bytes at `offset`, or a DataError.
std::vector<std::uint8_t> read_at(int fd, std::uint64_t offset, std::uint64_t n, const std::string& path) {
  std::vector<std::uint8_t> out(n);
  std::uint64_t done = 0;
  while (done < n) {
    ssize_t got = ::pread(fd, out.data() + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail(path, std::string("read error: ") + std::strerror(errno));
    if (got == 0) fail(path, fmt::format("truncated zip archive: {} bytes at offset {} are past its end", n, offset));
    done += static_cast<std::uint64_t>(got);
  }
  return out;
}

// One entry's uncompressed bytes, read as they are asked for: stored bytes straight from the file,
// deflated ones inflated no further than the entry's declared size. Checks the CRC at the end.
class EntrySource : public ByteSource {
 public:
  EntrySource(const std::string& path, std::uint64_t data_offset, std::uint64_t compressed, std::uint64_t uncompressed,
              bool deflate, std::uint32_t crc, const std::string& name)
      : fd_(path),
        offset_(data_offset),
        compressed_(compressed),
        uncompressed_(uncompressed),
        deflate_(deflate),
        expected_crc_(crc),
        name_(name) {
    if (deflate_ && inflateInit2(&z_, -MAX_WBITS) != Z_OK) fail(name_, "cannot start zlib's inflate");
  }
  ~EntrySource() override {
    if (deflate_) inflateEnd(&z_);
  }

  std::uint64_t size() const override { return uncompressed_; }

  void read(std::vector<std::uint8_t>& out, std::uint64_t n) override {
    n = std::min(n, uncompressed_ - produced_);
    std::size_t before = out.size();
    if (!deflate_) {
      std::vector<std::uint8_t> bytes = read_at(fd_.fd, offset_ + produced_, n, name_);
      out.insert(out.end(), bytes.begin(), bytes.end());
    } else {
      out.resize(before + n);
      std::size_t filled = 0;
      while (filled < n) {
        if (z_.avail_in == 0 && consumed_ < compressed_) refill();
        z_.next_out = out.data() + before + filled;
        z_.avail_out = static_cast<uInt>(std::min<std::uint64_t>(n - filled, 1 << 30));
        uInt avail = z_.avail_out;
        int rc = inflate(&z_, Z_NO_FLUSH);
        filled += avail - z_.avail_out;
        if (rc == Z_STREAM_END) break;
        if (rc != Z_OK && !(rc == Z_BUF_ERROR && z_.avail_in == 0 && consumed_ < compressed_))
          fail(name_, fmt::format("corrupt deflate data after {} bytes ({})", produced_ + filled,
                                  z_.msg ? z_.msg : "no more input"));
      }
      out.resize(before + filled);
      n = filled;
    }
    crc_ = crc32_z(crc_, out.data() + before, static_cast<z_size_t>(n));
    produced_ += n;
    if (produced_ == uncompressed_) finish();
  }

 private:
  void refill() {
    std::uint64_t n = std::min<std::uint64_t>(compressed_ - consumed_, 1 << 20);
    input_ = read_at(fd_.fd, offset_ + consumed_, n, name_);
    consumed_ += n;
    z_.next_in = input_.data();
    z_.avail_in = static_cast<uInt>(n);
  }
  // All the declared bytes are out: the deflate stream must end here, and the CRC match.
  void finish() {
    if (deflate_) {
      std::uint8_t extra = 0;
      for (;;) {
        if (z_.avail_in == 0 && consumed_ < compressed_) refill();
        z_.next_out = &extra;
        z_.avail_out = 1;
        int rc = inflate(&z_, Z_NO_FLUSH);
        if (z_.avail_out == 0)
          fail(name_, fmt::format("inflates to more than the {} bytes the zip directory declares", uncompressed_));
        if (rc == Z_STREAM_END) break;
        if (rc != Z_OK)
          fail(name_, fmt::format("corrupt or truncated deflate data ({})", z_.msg ? z_.msg : "no more input"));
      }
    }
    if (crc_ != expected_crc_)
      fail(name_,
           fmt::format("CRC-32 {:08x} does not match the zip directory's {:08x} (corrupt data)", crc_, expected_crc_));
  }

  Fd fd_;
  std::uint64_t offset_, compressed_, uncompressed_, produced_ = 0, consumed_ = 0;
  bool deflate_;
  std::uint32_t expected_crc_;
  std::string name_;
  z_stream z_{};
  std::vector<std::uint8_t> input_;
  uLong crc_ = crc32(0, nullptr, 0);
};

}  // namespace

NpzArchive::NpzArchive(const std::string& path) : path_(path) {
  check_regular_file(path);
  Fd file(path);
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  file_size_ = static_cast<std::uint64_t>(info.st_size);
  const std::string not_zip = "not an .npz file (a zip archive, as np.savez writes): ";
  if (file_size_ < kEndSize) fail(path, not_zip + fmt::format("{} bytes, too short", file_size_));

  // The end record: the last 22 bytes, or further back when the archive has a comment.
  std::uint64_t tail_size = std::min(file_size_, kEndSize + kMaxComment);
  std::vector<std::uint8_t> tail = read_at(file.fd, file_size_ - tail_size, tail_size, path);
  std::optional<std::uint64_t> end;
  for (std::uint64_t i = tail_size - kEndSize + 1; i-- > 0;)
    if (little_endian(&tail[i], 4) == kEndSignature && i + kEndSize + little_endian(&tail[i + 20], 2) == tail_size) {
      end = i;
      break;
    }
  if (!end) fail(path, not_zip + "no zip end-of-central-directory record");
  const std::uint8_t* e = &tail[*end];
  const std::uint64_t end_offset = file_size_ - tail_size + *end;
  if (*end >= 20 && little_endian(&tail[*end - 20], 4) == kZip64LocatorSignature)
    fail(path, "a zip64 archive (over 4 GiB or 65535 entries) is not supported: save the arrays as .npy files instead");
  if (little_endian(e + 4, 2) != 0 || little_endian(e + 6, 2) != 0)
    fail(path, "a split (multi-disk) zip archive is not supported");
  std::uint64_t count = little_endian(e + 10, 2), directory_size = little_endian(e + 12, 4);
  directory_offset_ = little_endian(e + 16, 4);
  if (count != little_endian(e + 8, 2)) fail(path, "the zip end record's entry counts disagree");
  if (directory_offset_ + directory_size > end_offset)
    fail(path, fmt::format("the zip central directory ({} bytes at offset {}) runs past its end record at {} (corrupt "
                           "or truncated archive)",
                           directory_size, directory_offset_, end_offset));
  if (directory_size > kMaxDirectory)
    fail(path, fmt::format("a zip central directory of {} bytes: more than 16 MiB", directory_size));
  std::vector<std::uint8_t> dir = read_at(file.fd, directory_offset_, directory_size, path);

  std::uint64_t at = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (at + kDirectoryEntrySize > dir.size() || little_endian(&dir[at], 4) != kDirectorySignature)
      fail(path, fmt::format("zip central directory entry {} of {} is missing or corrupt", i + 1, count));
    const std::uint8_t* d = &dir[at];
    std::uint64_t name_length = little_endian(d + 28, 2), extra_length = little_endian(d + 30, 2),
                  comment_length = little_endian(d + 32, 2);
    if (at + kDirectoryEntrySize + name_length + extra_length + comment_length > dir.size())
      fail(path, fmt::format("zip central directory entry {} runs past the directory", i + 1));
    Entry entry;
    entry.name.assign(d + kDirectoryEntrySize, d + kDirectoryEntrySize + name_length);
    const std::string name = path + ":" + entry.name;
    const std::uint64_t flags = little_endian(d + 8, 2);
    entry.method = static_cast<std::uint16_t>(little_endian(d + 10, 2));
    entry.crc = static_cast<std::uint32_t>(little_endian(d + 16, 4));
    entry.compressed = little_endian(d + 20, 4);
    entry.uncompressed = little_endian(d + 24, 4);
    entry.local_offset = little_endian(d + 42, 4);
    // zip64 sizes: the 8-byte values of extra field 0x0001, for each 32-bit field that is 0xFFFFFFFF.
    const std::uint8_t* extra = d + kDirectoryEntrySize + name_length;
    for (std::uint64_t x = 0; x + 4 <= extra_length;) {
      std::uint64_t id = little_endian(extra + x, 2), size = little_endian(extra + x + 2, 2);
      if (x + 4 + size > extra_length) fail(name, "corrupt zip extra field");
      if (id == 0x0001) {
        std::uint64_t y = x + 4;
        for (std::uint64_t* field : {&entry.uncompressed, &entry.compressed, &entry.local_offset})
          if (*field == 0xFFFFFFFF) {
            if (y + 8 > x + 4 + size) fail(name, "corrupt zip64 extra field");
            *field = little_endian(extra + y, 8);
            y += 8;
          }
      }
      x += 4 + size;
    }
    if (flags & 0x41) fail(name, "an encrypted zip entry is not supported");
    if (entry.method != 0 && entry.method != 8)
      fail(name, fmt::format("zip compression method {} is not supported (stored and deflate are: np.savez and "
                             "np.savez_compressed)",
                             entry.method));
    if (entry.method == 0 && entry.compressed != entry.uncompressed)
      fail(name, fmt::format("a stored zip entry of {} bytes that declares {} uncompressed", entry.compressed,
                             entry.uncompressed));
    if (entry.local_offset + kLocalHeaderSize > directory_offset_ || entry.compressed > directory_offset_)
      fail(name, "the zip entry lies past the start of the central directory (corrupt or truncated archive)");
    if (std::any_of(entries_.begin(), entries_.end(), [&](const Entry& other) { return other.name == entry.name; }))
      fail(path, "the zip archive holds two entries named " + entry.name);
    entries_.push_back(std::move(entry));
    at += kDirectoryEntrySize + name_length + extra_length + comment_length;
  }
}

bool NpzArchive::has(const std::string& array) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.name == array + ".npy"; });
}

NpyArray NpzArchive::read(const std::string& array) const {
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.name == array + ".npy"; });
  if (it == entries_.end()) {
    std::string held;
    for (const Entry& e : entries_) held += (held.empty() ? "" : ", ") + e.name;
    fail(path_, fmt::format("no array '{}' ({}.npy) in the archive; it holds {}", array, array,
                            held.empty() ? "nothing" : held));
  }
  const std::string name = path_ + ":" + it->name;
  Fd file(path_);
  std::vector<std::uint8_t> local = read_at(file.fd, it->local_offset, kLocalHeaderSize, name);
  if (little_endian(local.data(), 4) != kLocalSignature)
    fail(name, "no zip local header where the central directory points");
  const std::uint64_t data_offset =
      it->local_offset + kLocalHeaderSize + little_endian(&local[26], 2) + little_endian(&local[28], 2);
  if (data_offset + it->compressed > directory_offset_)
    fail(name, fmt::format("the zip entry's {} bytes at offset {} run into the central directory (corrupt or "
                           "truncated archive)",
                           it->compressed, data_offset));
  EntrySource in(path_, data_offset, it->compressed, it->uncompressed, it->method == 8, it->crc, name);
  return read_npy(in, name);
}

}  // namespace nos::runtime
