// Compiled kernels, cached in memory and on disk.
//
// The key is everything that decides the machine code: the rule's canonical hash, the backend, the
// element type, the target (CPU features or GPU arch) and the compiler's version. On disk each entry
// is one file written to a temporary name and renamed into place, so concurrent processes never
// see a half-written kernel; a corrupt or foreign file reads as a miss, and so does anything that
// is not a regular file of at most kMaxCacheEntryBytes (a FIFO, a device, a huge file): the miss
// recompiles and the write replaces it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace nos::codegen {

// Part of every key's compiler field: bump it whenever the code generators change what they emit
// for the same rule (a new lowering, a new runtime function), so stale kernels read as misses.
inline constexpr const char* kCodegenRevision = "nos-codegen-5";  // 3: CPU loops split into whole vectors and a remainder; 4: CUDA blocks take equal shares (KernelSplit); 5: CPU vectors of 256 bits for memory-bound rules

// No kernel comes near this (they are kilobytes to a few megabytes); a larger entry is damaged.
inline constexpr std::uint64_t kMaxCacheEntryBytes = 64ull << 20;

struct CacheKey {
  std::uint64_t rule_hash = 0;
  std::string backend;   // "llvm", "cuda"
  std::string dtype;     // "f32", "bf16", "f16"
  std::string target;    // CPU name + features, or "sm_90"
  std::string compiler;  // "LLVM 16.0.6", "NVRTC 13.0"

  std::string describe() const;  // all fields, one line: stored in the file and compared on read
  std::string file_name() const; // stable digest of describe(), plus an extension per backend
};

// FNV-1a of `bytes`: the same in every process and build, for the parts of a key that stand for
// a text (file names, the CUDA prelude's digest).
std::uint64_t content_digest(std::string_view bytes);

// $NOS_CACHE_DIR, else $XDG_CACHE_HOME/nos, else $HOME/.cache/nos.
std::filesystem::path default_cache_directory();

class DiskCache {
 public:
  explicit DiskCache(std::filesystem::path directory = default_cache_directory());
  const std::filesystem::path& directory() const { return directory_; }

  std::optional<std::string> read(const CacheKey& key) const;
  // Best effort: an unwritable cache directory costs a recompile later, never a failure now.
  bool write(const CacheKey& key, std::string_view bytes) const;

 private:
  std::filesystem::path directory_;
};

// Loaded kernels of one backend, shared by every caller in the process.
template <class Kernel>
class MemoryCache {
 public:
  std::shared_ptr<const Kernel> get_or_create(const std::string& key,
                                              const std::function<std::shared_ptr<const Kernel>()>& create) {
    {
      std::lock_guard lock(mutex_);
      if (auto it = kernels_.find(key); it != kernels_.end()) return it->second;
    }
    std::shared_ptr<const Kernel> kernel = create();  // compile outside the lock
    std::lock_guard lock(mutex_);
    return kernels_.emplace(key, std::move(kernel)).first->second;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    kernels_.clear();
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const Kernel>> kernels_;
};

}  // namespace nos::codegen
