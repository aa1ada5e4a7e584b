// cuda.h is included for the driver's types and constants only: every function is resolved with
// dlsym from libcuda.so.1 at first use. The symbol names are the ABI-versioned ones cuda.h's macros
// select (cuMemAlloc -> cuMemAlloc_v2), spelled out so that dlsym finds the same entry points.
#include "compiler/codegen/cuda/cuda_driver.h"

#include <cuda.h>
#include <dlfcn.h>

#include <mutex>
#include <string>
#include <utility>

namespace nos::codegen::cuda {
namespace {

#define NOS_CUDA_DRIVER_FUNCTIONS(X) \
  X(cuInit)                          \
  X(cuGetErrorName)                  \
  X(cuGetErrorString)                \
  X(cuDeviceGetCount)                \
  X(cuDeviceGet)                     \
  X(cuDeviceGetName)                 \
  X(cuDeviceGetAttribute)            \
  X(cuDevicePrimaryCtxRetain)        \
  X(cuCtxGetCurrent)                 \
  X(cuCtxSetCurrent)                 \
  X(cuCtxGetDevice)                  \
  X(cuModuleLoadDataEx)              \
  X(cuModuleUnload)                  \
  X(cuModuleGetFunction)             \
  X(cuLaunchKernel)                  \
  X(cuStreamSynchronize)             \
  X(cuMemAlloc_v2)                   \
  X(cuMemFree_v2)                    \
  X(cuMemcpyHtoD_v2)                 \
  X(cuMemcpyDtoH_v2)                 \
  X(cuMemcpyHtoDAsync_v2)

struct Driver {
#define NOS_DECLARE(name) decltype(&::name) name = nullptr;
  NOS_CUDA_DRIVER_FUNCTIONS(NOS_DECLARE)
#undef NOS_DECLARE
  std::string error;  // empty when usable
};

// Loaded and initialized once per process; a failure is remembered, not retried.
const Driver& driver() {
  static Driver d;
  static std::once_flag once;
  std::call_once(once, [] {
    void* library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
      const char* reason = dlerror();
      d.error = std::string("cannot load libcuda.so.1 (no NVIDIA driver?): ") + (reason ? reason : "");
      return;
    }
#define NOS_RESOLVE(name)                                                                \
  d.name = reinterpret_cast<decltype(&::name)>(dlsym(library, #name));                   \
  if (!d.name && d.error.empty()) d.error = "libcuda.so.1 lacks " #name " (driver too old)";
    NOS_CUDA_DRIVER_FUNCTIONS(NOS_RESOLVE)
#undef NOS_RESOLVE
    if (!d.error.empty()) return;
    if (CUresult r = d.cuInit(0); r != CUDA_SUCCESS) {
      const char* name = nullptr;
      d.cuGetErrorName(r, &name);
      d.error = std::string("cuInit failed: ") + (name ? name : "unknown error");
      return;
    }
    int count = 0;
    if (d.cuDeviceGetCount(&count) != CUDA_SUCCESS || count == 0) d.error = "the CUDA driver reports no device";
  });
  return d;
}

const Driver& usable_driver() {
  const Driver& d = driver();
  if (!d.error.empty()) throw CudaError("CUDA unavailable: " + d.error);
  return d;
}

std::string describe(CUresult result) {
  const Driver& d = driver();
  const char* name = nullptr;
  const char* text = nullptr;
  d.cuGetErrorName(result, &name);
  d.cuGetErrorString(result, &text);
  return std::string(name ? name : "unknown CUresult") + " (" + (text ? text : "") + ")";
}

void check(CUresult result, const std::string& call) {
  if (result != CUDA_SUCCESS) throw CudaError(call + " failed: " + describe(result));
}

#define NOS_CU(call) check(usable_driver().call, #call)

// Every driver call below needs a current context; torch's threads already have one.
void ensure_context(int ordinal = 0) {
  CUcontext context = nullptr;
  NOS_CU(cuCtxGetCurrent(&context));
  if (context) return;
  CUdevice device;
  NOS_CU(cuDeviceGet(&device, ordinal));
  NOS_CU(cuDevicePrimaryCtxRetain(&context, device));  // kept for the life of the process
  NOS_CU(cuCtxSetCurrent(context));
}

}  // namespace

bool cuda_available(std::string* why) {
  const Driver& d = driver();
  if (why) *why = d.error;
  return d.error.empty();
}

DeviceInfo current_device(int ordinal) {
  ensure_context(ordinal);
  CUdevice device;
  NOS_CU(cuCtxGetDevice(&device));
  DeviceInfo info;
  info.ordinal = static_cast<int>(device);
  char name[256] = {};
  NOS_CU(cuDeviceGetName(name, sizeof name, device));
  info.name = name;
  NOS_CU(cuDeviceGetAttribute(&info.major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device));
  NOS_CU(cuDeviceGetAttribute(&info.minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device));
  NOS_CU(cuDeviceGetAttribute(&info.multiprocessors, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device));
  return info;
}

Module::Module(std::string_view image) {
  ensure_context();
  // The JIT (PTX) and loader errors explain far more than the result code.
  char log[8192] = {};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void* values[] = {log, reinterpret_cast<void*>(static_cast<std::uintptr_t>(sizeof log))};
  CUmodule module = nullptr;
  CUresult r = usable_driver().cuModuleLoadDataEx(&module, image.data(), 2, options, values);
  if (r != CUDA_SUCCESS)
    throw CudaError("cuModuleLoadDataEx failed: " + describe(r) + (log[0] ? "\n" + std::string(log) : ""));
  module_ = module;
}

Module::Module(Module&& other) noexcept : module_(std::exchange(other.module_, nullptr)) {}

Module& Module::operator=(Module&& other) noexcept {
  if (this != &other) {
    if (module_) driver().cuModuleUnload(static_cast<CUmodule>(module_));
    module_ = std::exchange(other.module_, nullptr);
  }
  return *this;
}

Module::~Module() {
  if (module_) driver().cuModuleUnload(static_cast<CUmodule>(module_));
}

void* Module::function(const std::string& name) const {
  CUfunction function = nullptr;
  CUresult r = usable_driver().cuModuleGetFunction(&function, static_cast<CUmodule>(module_), name.c_str());
  check(r, "cuModuleGetFunction(" + name + ")");
  return function;
}

void launch_kernel(void* function, unsigned int grid, unsigned int block, void** args, void* stream) {
  NOS_CU(cuLaunchKernel(static_cast<CUfunction>(function), grid, 1, 1, block, 1, 1, 0, static_cast<CUstream>(stream),
                        args, nullptr));
}

void synchronize(void* stream) { NOS_CU(cuStreamSynchronize(static_cast<CUstream>(stream))); }

DeviceBuffer::DeviceBuffer(std::size_t bytes) : size_(bytes) {
  ensure_context();
  CUdeviceptr address = 0;
  if (bytes > 0) NOS_CU(cuMemAlloc_v2(&address, bytes));
  address_ = address;
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : address_(std::exchange(other.address_, 0)), size_(std::exchange(other.size_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    if (address_) driver().cuMemFree_v2(static_cast<CUdeviceptr>(address_));
    address_ = std::exchange(other.address_, 0);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

DeviceBuffer::~DeviceBuffer() {
  if (address_) driver().cuMemFree_v2(static_cast<CUdeviceptr>(address_));
}

void DeviceBuffer::upload(const void* host, std::size_t bytes, std::size_t offset, void* stream) {
  if (offset + bytes > size_) throw CudaError("DeviceBuffer::upload past the end of the buffer");
  if (bytes == 0) return;
  NOS_CU(cuMemcpyHtoDAsync_v2(static_cast<CUdeviceptr>(address_ + offset), host, bytes, static_cast<CUstream>(stream)));
}

void DeviceBuffer::download(void* host, std::size_t bytes, std::size_t offset) const {
  if (offset + bytes > size_) throw CudaError("DeviceBuffer::download past the end of the buffer");
  if (bytes == 0) return;
  NOS_CU(cuMemcpyDtoH_v2(host, static_cast<CUdeviceptr>(address_ + offset), bytes));
}

}  // namespace nos::codegen::cuda
