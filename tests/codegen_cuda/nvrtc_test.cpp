// NVRTC without a GPU: generated kernels compile to CUBIN (NVRTC runs ptxas) for the archs NOS
// targets, newer archs fall back to PTX, and failures carry the log and the numbered source.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <regex>
#include <string>
#include <vector>

#include "compiler/codegen/cuda/cuda_codegen.h"
#include "compiler/codegen/cuda/cuda_kernel.h"
#include "compiler/codegen/cuda/nvrtc.h"
#include "compiler/codegen/cuda/prelude.h"
#include "compiler/codegen/kernel_cache.h"
#include "compiler/passes.h"
#include "image_util.h"
#include "rules.h"

using namespace nos;
using namespace nos::codegen;
using namespace nos::codegen::cuda;

TEST_CASE("nvrtc: version string and supported archs") {
  CHECK(std::regex_match(nvrtc_version(), std::regex(R"(\d+\.\d+)")));
  const std::vector<int> archs = nvrtc_supported_archs();
  CHECK(std::find(archs.begin(), archs.end(), 80) != archs.end());
  CHECK(std::find(archs.begin(), archs.end(), 90) != archs.end());
  CHECK(std::is_sorted(archs.begin(), archs.end()));
}

TEST_CASE("cuda kernel cache: the compiler id names NVRTC, the codegen revision and the prelude's digest") {
  const std::string id = kernel_compiler_id();
  CHECK(id.rfind("nvrtc-" + nvrtc_version() + " ", 0) == 0);
  CHECK(id.find(kCodegenRevision) != std::string::npos);
  const std::string prelude = host_device_prelude() + kernel_prelude();
  CHECK(id.find(" prelude-" + ir::hash_hex(content_digest(prelude))) != std::string::npos);
  // The digest covers semantics.h and random.h: one changed byte in either is another key.
  for (std::string_view part : {semantics_source(), random_source()}) {
    std::string edited = prelude;
    edited[prelude.find(part) + part.size() / 2] ^= 1;
    CHECK(content_digest(edited) != content_digest(prelude));
  }
}

TEST_CASE("nvrtc: arch names") {
  CHECK(arch_number("sm_90") == 90);
  CHECK(arch_number("sm_90a") == 90);
  CHECK(arch_number("compute_80") == 80);
  CHECK(arch_number("sm_120") == 120);
  CHECK_THROWS_AS(arch_number("90"), NvrtcError);
  CHECK_THROWS_AS(arch_number("sm_"), NvrtcError);
  CHECK_THROWS_AS(arch_number("sm_9x"), NvrtcError);
}

TEST_CASE("nvrtc: every named and built rule compiles to CUBIN for sm_80 and sm_90 in f32, bf16 and f16") {
  std::vector<test::TestRule> rules = test::named_rules();
  for (test::TestRule& r : test::unoptimized_rules()) rules.push_back(std::move(r));
  std::string source = host_device_prelude() + kernel_prelude();
  std::vector<std::string> kernels;
  for (std::size_t r = 0; r < rules.size(); ++r)
    for (DType dtype : {DType::F32, DType::BF16, DType::F16}) {
      kernels.push_back("k" + std::to_string(r) + "_" + name(dtype));
      source += kernel_function(rules[r].f, dtype, kernels.back());
    }
  for (const char* arch : {"sm_80", "sm_90"}) {
    CompiledImage image = compile(source, arch);
    CHECK(image.kind == ImageKind::Cubin);
    CHECK(image.arch == arch);
    CHECK(test::is_elf(image.image));
    for (const std::string& kernel : kernels) CHECK(test::cubin_names_kernel(image.image, kernel));
  }
}

TEST_CASE("nvrtc: a single-rule program is complete, and an arch newer than NVRTC knows gets PTX") {
  const ir::Function adam = test::compile_text("adam").f;
  const std::string source = kernel_source(adam, DType::BF16);
  CompiledImage cubin = compile(source, "sm_90");
  CHECK(test::is_elf(cubin.image));
  CHECK(test::cubin_names_kernel(cubin.image, "nos_kernel"));
  CHECK(test::cubin_names_kernel(cubin.image, "nos_kernel_at"));  // the step read from device memory

  const int newest = nvrtc_supported_archs().back();
  CompiledImage ptx = compile(source, "sm_" + std::to_string(newest + 10));
  CHECK(ptx.kind == ImageKind::Ptx);
  CHECK(ptx.arch == "compute_" + std::to_string(newest));
  CHECK(ptx.image.find(".entry nos_kernel(") != std::string::npos);
  CHECK(ptx.image.find(".entry nos_kernel_at(") != std::string::npos);
  CHECK(ptx.image.back() == '\0');  // cuModuleLoadData reads PTX as a C string

  CHECK_THROWS_AS(compile(source, "sm_20"), NvrtcError);
}

TEST_CASE("nvrtc: an arch between those NVRTC lists is refused before NVRTC, with the list") {
  const std::vector<int> archs = nvrtc_supported_archs();
  int missing = 0;  // a number inside the range that NVRTC does not list (sm_95 in CUDA 12 and 13)
  for (int k = archs.front() + 1; k < archs.back() && !missing; ++k)
    if (std::find(archs.begin(), archs.end(), k) == archs.end()) missing = k;
  REQUIRE(missing > 0);
  const std::string arch = "sm_" + std::to_string(missing);
  const std::string problem = arch_problem(arch);
  CHECK(problem.find("cannot compile for " + arch + "; it supports sm_" + std::to_string(archs.front()) + ", ") !=
        std::string::npos);
  CHECK(problem.find("newer GPUs, through PTX for sm_" + std::to_string(archs.back())) != std::string::npos);
  try {
    compile(kernel_source(test::compile_text("g").f, DType::F32), arch);
    FAIL("compiled for an arch NVRTC does not list");
  } catch (const NvrtcError& e) {
    CHECK(std::string(e.what()) == problem);  // not NVRTC_ERROR_INVALID_OPTION from inside NVRTC
  }
  for (int k : archs) CHECK(arch_problem("sm_" + std::to_string(k)).empty());
  CHECK(arch_problem("sm_" + std::to_string(archs.back() + 1)).empty());
}

TEST_CASE("nvrtc: a compile error carries NVRTC's log and the numbered source") {
  const std::string source = "extern \"C\" __global__ void broken(float* x) {\n  x[0] = undefined_name;\n}\n";
  try {
    compile(source, "sm_90", ImageKind::Cubin, "broken.cu");
    FAIL("the broken source compiled");
  } catch (const NvrtcError& e) {
    const std::string what = e.what();
    CHECK(what.find("broken.cu") != std::string::npos);
    CHECK(what.find("identifier \"undefined_name\" is undefined") != std::string::npos);  // the log
    CHECK(what.find("    2 |   x[0] = undefined_name;") != std::string::npos);          // the source
    CHECK(what.find("    1 | extern \"C\"") != std::string::npos);
  }
}

TEST_CASE("nvrtc: compile time of adam to CUBIN for sm_90 (measured, reported)") {
  const std::string source = kernel_source(test::compile_text("adam").f, DType::F32);
  // Wall time includes waiting for a busy machine; process CPU time does not.
  using clock = std::chrono::steady_clock;
  auto ms = [](clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  auto cpu_ms = [](std::clock_t c) { return 1000.0 * static_cast<double>(c) / CLOCKS_PER_SEC; };
  const clock::time_point t0 = clock::now();
  const std::clock_t c0 = std::clock();
  CompiledImage first = compile(source, "sm_90");
  const clock::time_point t1 = clock::now();
  const std::clock_t c1 = std::clock();
  CompiledImage second = compile(source, "sm_90");
  const clock::time_point t2 = clock::now();
  const std::clock_t c2 = std::clock();
  CHECK(first.image == second.image);  // deterministic: a cache may key on the source alone
  MESSAGE("NVRTC " << nvrtc_version() << " adam f32 -> sm_90 CUBIN (" << first.image.size() << " bytes): cold "
                   << ms(t1 - t0) << " ms wall, " << cpu_ms(c1 - c0) << " ms CPU; warm " << ms(t2 - t1)
                   << " ms wall, " << cpu_ms(c2 - c1) << " ms CPU");
}
