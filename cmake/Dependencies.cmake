# Finds the project's dependencies once, so every directory sees the same targets.
# Header-only libraries (CLI11, nlohmann_json, doctest, and fmt in its header-only mode) fall back
# to a plain include path so the build also works where they were copied in by hand (the GPU
# machine has no package registry; cmake/pack-third-party.sh copies them).

set(NOS_THIRD_PARTY_INCLUDE "" CACHE PATH "Extra include directory holding CLI11/json/doctest/fmt headers")

function(nos_header_only target header)
  if(TARGET ${target})
    return()
  endif()
  find_path(_dir ${header} HINTS ${NOS_THIRD_PARTY_INCLUDE} NO_CACHE)
  if(NOT _dir)
    message(FATAL_ERROR "${header} not found: run cmake/setup-debian.sh or set NOS_THIRD_PARTY_INCLUDE")
  endif()
  add_library(${target} INTERFACE IMPORTED GLOBAL)
  target_include_directories(${target} INTERFACE ${_dir})
endfunction()

find_package(CLI11 CONFIG QUIET)
if(NOT TARGET CLI11::CLI11)
  nos_header_only(CLI11::CLI11 CLI/CLI.hpp)
endif()
find_package(nlohmann_json 3 CONFIG QUIET)
if(NOT TARGET nlohmann_json::nlohmann_json)
  nos_header_only(nlohmann_json::nlohmann_json nlohmann/json.hpp)
endif()
if(NOS_BUILD_TESTS)
  find_package(doctest CONFIG QUIET)
  if(NOT TARGET doctest::doctest)
    nos_header_only(doctest::doctest doctest/doctest.h)
  endif()
endif()

if(NOS_WITH_LLVM)
  find_package(LLVM 16 CONFIG REQUIRED HINTS /usr/lib/llvm-16/lib/cmake/llvm)
  message(STATUS "LLVM ${LLVM_PACKAGE_VERSION} from ${LLVM_DIR}")
endif()

if(NOS_WITH_CUDA)
  find_package(CUDAToolkit REQUIRED)
  message(STATUS "CUDA toolkit ${CUDAToolkit_VERSION}: NVRTC ${CUDAToolkit_NVRTC_LIBRARY}")
endif()

if(NOS_WITH_TORCH)
  include(${CMAKE_CURRENT_LIST_DIR}/Torch.cmake)
  # pip wheels of LibTorch may use the old libstdc++ string ABI; every NOS library passes
  # std::string across into nos_runtime, so all of them must match it.
  if(TORCH_CXX_FLAGS MATCHES "_GLIBCXX_USE_CXX11_ABI=0")
    add_compile_definitions(_GLIBCXX_USE_CXX11_ABI=0)
  endif()
endif()

# fmt, after LibTorch: a torch wheel ships its own fmt headers (fmt 12 in torch 2.15) in the include
# folder every torch-using file sees first, and a file compiled against them cannot link with
# another fmt's library. Then every NOS target uses the wheel's fmt, header-only (from a copy, so
# the torch-free layers see no torch header). Otherwise the compiled library where it is installed
# (Debian's libfmt-dev), else its headers alone with FMT_HEADER_ONLY, so the same fmt::fmt target
# works where only the headers were carried (NOS_THIRD_PARTY_INCLUDE).
set(_nos_torch_include "${TORCH_INSTALL_PREFIX}/include")
if(NOS_WITH_TORCH AND EXISTS "${_nos_torch_include}/fmt/format.h"
   AND NOT _nos_torch_include IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
  set(_nos_fmt_copy "${PROJECT_BINARY_DIR}/fmt-from-torch/include")
  file(COPY "${_nos_torch_include}/fmt" DESTINATION "${_nos_fmt_copy}")
  add_library(fmt::fmt INTERFACE IMPORTED GLOBAL)
  target_include_directories(fmt::fmt INTERFACE "${_nos_fmt_copy}")
  target_compile_definitions(fmt::fmt INTERFACE FMT_HEADER_ONLY)
  message(STATUS "fmt: header-only, LibTorch's own (${_nos_torch_include}/fmt)")
else()
  find_package(fmt CONFIG QUIET)
  if(NOT TARGET fmt::fmt)
    nos_header_only(fmt::fmt fmt/format.h)
    set_property(TARGET fmt::fmt APPEND PROPERTY INTERFACE_COMPILE_DEFINITIONS FMT_HEADER_ONLY)
    message(STATUS "fmt: header-only from ${NOS_THIRD_PARTY_INCLUDE}")
  else()
    message(STATUS "fmt ${fmt_VERSION} from ${fmt_DIR}")
  endif()
endif()

# The search's storage (controller/search): SQLite, the embedded default. Not REQUIRED so that a
# machine without it (the GPU machine) still builds everything else; controller/search says so.
find_package(SQLite3)

# The PostgreSQL storage (many machines share one search): libpq through pkg-config (Debian
# libpq-dev). Optional: without it `open_storage` says that PostgreSQL storage is not built.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(LIBPQ QUIET IMPORTED_TARGET libpq)
endif()
if(TARGET PkgConfig::LIBPQ)
  message(STATUS "libpq ${LIBPQ_VERSION}: the PostgreSQL storage is built")
else()
  message(STATUS "libpq not found (libpq-dev, cmake/setup-debian.sh): no PostgreSQL storage")
endif()
