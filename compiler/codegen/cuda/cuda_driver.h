// The CUDA driver API, found at run time (dlopen("libcuda.so.1")): nothing links against libcuda,
// so machines without a driver or a GPU run everything else, and cuda_available() says why not.
// Handles are opaque here (void* for CUmodule/CUfunction/CUstream, uint64 for device pointers) so
// that no caller includes CUDA headers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace nos::codegen::cuda {

// A failed driver call; what() names the call and the driver's error.
class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// True when the driver loads, initializes and reports at least one device; otherwise false, with
// the reason in *why (no libcuda.so.1, CUDA_ERROR_NO_DEVICE, ...).
bool cuda_available(std::string* why = nullptr);

struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  int major = 0, minor = 0;  // compute capability
  int multiprocessors = 0;
  std::string arch() const { return "sm_" + std::to_string(major * 10 + minor); }
};

// The device of the calling thread's current context. When the thread has none, makes the primary
// context of `ordinal` current first: the same context the CUDA runtime (and so torch) uses.
DeviceInfo current_device(int ordinal = 0);

// A CUBIN or PTX image loaded into the current context; unloaded on destruction.
class Module {
 public:
  explicit Module(std::string_view image);  // throws CudaError with the JIT log
  Module(Module&& other) noexcept;
  Module& operator=(Module&& other) noexcept;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  ~Module();

  void* function(const std::string& name) const;  // CUfunction; throws when absent

 private:
  void* module_ = nullptr;
};

// cuLaunchKernel with a 1-D grid on `stream` (a CUstream; nullptr is the legacy default stream).
void launch_kernel(void* function, unsigned int grid, unsigned int block, void** args, void* stream);
void synchronize(void* stream);

// Device memory in the current context; freed on destruction.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t bytes);
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer();

  std::uint64_t address() const { return address_; }
  void* data() const { return reinterpret_cast<void*>(address_); }
  std::size_t size() const { return size_; }

  // Stream-ordered copy from pageable host memory: the driver stages `host` before returning, so
  // the caller may reuse it at once.
  void upload(const void* host, std::size_t bytes, std::size_t offset = 0, void* stream = nullptr);
  void download(void* host, std::size_t bytes, std::size_t offset = 0) const;  // waits for the device

 private:
  std::uint64_t address_ = 0;
  std::size_t size_ = 0;
};

}  // namespace nos::codegen::cuda
