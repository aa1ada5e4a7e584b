#include "tools/options.h"

#include <charconv>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "compiler/codegen/kernel_abi.h"
#include "dsl/input_file.h"
#include "runtime/train_config.h"

namespace nos::tool {

CLI::Option* add_threads_option(CLI::App& app, int& threads, const std::string& help) {
  return app.add_option("--threads", threads, help)->check(CLI::Range(0, codegen::kMaxThreads))->capture_default_str();
}

namespace {

// A plain decimal number that fits in 64 bits; `what` names it with {} for the largest value ("a
// whole number from 0 to {}"). CLI11 alone saturates 2^64, wraps -1 and reads 010 as octal.
CLI::Validator decimal_u64_validator(std::string what, std::string larger_prefix, std::string type_name) {
  return CLI::Validator(
      [what, larger_prefix](std::string& text) -> std::string {
        std::uint64_t value = 0;
        const char* end = text.data() + text.size();
        auto [stop, ec] = std::from_chars(text.data(), end, value);
        if (text.empty() || stop != end || (text.size() > 1 && text[0] == '0'))
          return fmt::format("'{}' is not {}", text, fmt::format(fmt::runtime(what), UINT64_MAX));
        if (ec == std::errc::result_out_of_range) return fmt::format("{}{} is larger than {}", larger_prefix, text, UINT64_MAX);
        return {};
      },
      type_name);
}

}  // namespace

CLI::Validator seed_validator() { return decimal_u64_validator("a seed (a decimal number from 0 to {})", "seed ", "SEED"); }

CLI::Option* add_seed_option(CLI::App& app, const std::string& name, std::uint64_t& seed, const std::string& help) {
  return app.add_option(name, seed, help)->check(seed_validator())->capture_default_str();
}

CLI::Validator unsigned_validator() { return decimal_u64_validator("a whole number from 0 to {}", "", "UINT"); }

CLI::Validator learning_rate_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value)) return fmt::format("'{}' is not a number", text);
        std::string problem = codegen::learning_rate_problem(value);
        return problem.empty() ? std::string() : fmt::format("learning rate {}: {}", text, problem);
      },
      "LR");
}

namespace {

CLI::Validator sign_validator(bool zero_allowed) {
  return CLI::Validator(
      [zero_allowed](std::string& text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value) || !std::isfinite(value)) return fmt::format("'{}' is not a number", text);
        if (value > 0 || (zero_allowed && value == 0)) return {};
        return fmt::format("must be {}, not {}", zero_allowed ? "0 or more" : "more than 0", text);
      },
      zero_allowed ? "NUMBER >= 0" : "NUMBER > 0");
}

}  // namespace

CLI::Validator positive_validator() { return sign_validator(false); }
CLI::Validator non_negative_validator() { return sign_validator(true); }

CLI::Validator range_validator(double min, double max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value) || std::isnan(value)) return fmt::format("'{}' is not a number", text);
        if (value >= min && value <= max) return {};
        return fmt::format("{} is outside {:g} .. {:g}", text, min, max);
      },
      fmt::format("{:g} .. {:g}", min, max));
}

CLI::Validator device_validator() {
  return CLI::Validator(
      [](std::string& d) -> std::string {
        bool ok = d == "cpu" || d == "cuda" ||
                  (d.rfind("cuda:", 0) == 0 && d.size() > 5 && d.size() < 9 &&
                   d.find_first_not_of("0123456789", 5) == std::string::npos);
        return ok ? std::string() : fmt::format("unknown device '{}' (expected cpu, cuda or cuda:N)", d);
      },
      "DEVICE");
}

CLI::Validator model_validator() {
  return CLI::Validator(
      [](std::string& m) -> std::string {
        if (runtime::is_builtin_model(m)) return {};
        std::error_code ec;
        if (!std::filesystem::exists(m, ec))
          return fmt::format("'{}' is neither a built-in model ({}) nor a file (a TorchScript model)", m,
                             fmt::join(runtime::model_names(), ", "));
        if (std::string kind = dsl::non_regular_kind(m); !kind.empty())
          return fmt::format("'{}' is {}, not a TorchScript file", m, kind);
        std::filesystem::path absolute = std::filesystem::absolute(m, ec);
        if (!ec) m = absolute.lexically_normal().string();
        return {};
      },
      "MODEL");
}

}  // namespace nos::tool
