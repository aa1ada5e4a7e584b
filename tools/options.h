// Options several tools share, checked the same way everywhere: thread counts (bounded), seeds
// (decimal, never saturated or wrapped), learning rates (positive, and not 0 once the kernels
// round them to float32) and devices (cpu, cuda, cuda:N).
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

namespace nos::tool {

// --threads: 0 (the library's default) to codegen::kMaxThreads.
CLI::Option* add_threads_option(CLI::App& app, int& threads, const std::string& help);

// Seeds are plain decimal numbers that fit in 64 bits. CLI11 alone would saturate 2^64 to 2^64-1,
// wrap -1 to 2^64-1 and read 010 as octal: three different seeds that look like others.
CLI::Validator seed_validator();
CLI::Option* add_seed_option(CLI::App& app, const std::string& name, std::uint64_t& seed, const std::string& help);

// A whole number from 0 to 2^64-1, in decimal: CLI11 alone reads -1 as 2^64-1 (nosc verify
// --max-ulp -1 was accepted), saturates larger numbers and reads 010 as octal.
CLI::Validator unsigned_validator();

// A learning rate: a positive finite number that stays positive in float32.
CLI::Validator learning_rate_validator();

// A count or an amount that must be > 0 (or >= 0): CLI11's own range checks print their bound as
// 300 digits of the largest double.
CLI::Validator positive_validator();
CLI::Validator non_negative_validator();
// A number in [min, max] (NaN is outside every range, unlike CLI::Range's comparisons say).
CLI::Validator range_validator(double min, double max);

// --device: the spelling of a LibTorch device the runtime trains on (cpu, cuda, cuda:N); whether
// it exists on this machine is the runtime's question (runtime::device_problem), asked later.
CLI::Validator device_validator();

// --model: a built-in child (runtime::model_names()) or the user's TorchScript file, made absolute so that
// workers started elsewhere read the same file. Whether the file is a usable model is the
// runtime's question (its preflight), asked later.
CLI::Validator model_validator();

}  // namespace nos::tool
