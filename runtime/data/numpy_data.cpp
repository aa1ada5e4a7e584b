#include "runtime/data/numpy_data.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <type_traits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runtime/data/idx.h"
#include "runtime/data/npy.h"
#include "runtime/data/npz.h"

namespace nos::runtime {
namespace {

constexpr double kMaxLabel = 1e6;  // as in CSV files: a larger class number is a column of something else

struct Named {
  NpyArray array;
  std::string name;  // the file, or "archive.npz:x.npy"
};

[[noreturn]] void fail(const std::string& name, const std::string& what) { throw DataError(name + ": " + what); }

// One example's shape: {F} for a table, {C, H, W} for images.
std::vector<std::int64_t> example_shape(const Named& x, const std::string& role) {
  const std::vector<std::int64_t>& s = x.array.shape;
  if (s.size() < 2 || s.size() > 4)
    fail(x.name, fmt::format("{} has shape {}: inputs must be (N, features), (N, height, width) or (N, channels, "
                             "height, width)",
                             role, npy_shape_text(s)));
  if (s[0] == 0) fail(x.name, fmt::format("{} has shape {}: no examples", role, npy_shape_text(s)));
  if (std::find(s.begin() + 1, s.end(), 0) != s.end())
    fail(x.name, fmt::format("{} has shape {}: an example of no values", role, npy_shape_text(s)));
  if (s.size() == 2) return {s[1]};
  if (s.size() == 3) return {1, s[1], s[2]};
  return {s[1], s[2], s[3]};
}

// Integers other than uint8 (pixels) are token ids (numpy_data.h).
bool holds_token_ids(const NpyArray& a) { return a.kind == 'i' || (a.kind == 'u' && a.item_size > 1); }

// Token ids, as exact float32 numbers; returns the largest.
std::int64_t append_tokens(const Named& x, const std::string& role, std::vector<float>& out) {
  const NpyArray& a = x.array;
  if (a.shape.size() != 2)
    fail(x.name, fmt::format("{} has shape {} and dtype '{}': integer inputs are token ids and must be (N, length), "
                             "one sequence per row (images are uint8 or float; tables float)",
                             role, npy_shape_text(a.shape), a.descr));
  const std::int64_t length = a.shape[1];
  std::int64_t largest = 0;
  visit_npy(a, [&](const auto* v, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) {
      auto id = static_cast<double>(v[i]);
      if (id < 0 || id >= static_cast<double>(kMaxVocabulary))
        fail(x.name, fmt::format("{} row {} holds token id {}: token ids must be 0 .. {}", role, i / length, id,
                                 kMaxVocabulary - 1));
      largest = std::max(largest, static_cast<std::int64_t>(id));
      out.push_back(static_cast<float>(id));
    }
  });
  return largest;
}

void append_features(const Named& x, const std::string& role, std::vector<float>& out) {
  const NpyArray& a = x.array;
  if (a.kind == 'u' && a.item_size == 1) {
    visit_npy(a, [&](const auto* v, std::int64_t n) {
      for (std::int64_t i = 0; i < n; ++i) out.push_back(static_cast<float>(v[i]) / 255.0f);
    });
    return;
  }
  if (a.kind != 'f')
    fail(x.name, fmt::format("{} has dtype '{}': inputs must be float32, float64, uint8 or integer token ids "
                             "(convert with {}.astype(np.float32))",
                             role, a.descr, role));
  const std::int64_t per_row = a.count() / a.shape[0];
  visit_npy(a, [&](const auto* v, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) {
      auto f = static_cast<float>(v[i]);
      if (!std::isfinite(f))
        fail(x.name, fmt::format("{} row {} holds {} (inputs must be finite float32 numbers)", role, i / per_row,
                                 static_cast<double>(v[i])));
      out.push_back(f);
    }
  });
}

// y: class labels when they are class numbers, and always the same values as float targets (the
// objective decides which it reads: objective.h). A y that is not class numbers (fractions, a
// row of several values, negative numbers) keeps the reason in `label_problem`.
void append_y(const Named& y, const std::string& role, std::int64_t rows, const Named& x, Dataset& d,
              std::string& label_problem) {
  const NpyArray& a = y.array;
  const std::vector<std::int64_t>& s = a.shape;
  if (!(s.size() == 1 || (s.size() == 2 && s[1] >= 1)))
    fail(y.name, fmt::format("{} has shape {}: y must be one class number or target per example, shape (N,), or K "
                             "regression targets per example, shape (N, K)",
                             role, npy_shape_text(s)));
  if (s[0] != rows) fail(y.name, fmt::format("{} holds {} labels, but {} holds {} examples", role, s[0], x.name, rows));
  const std::int64_t width = s.size() == 2 ? s[1] : 1;
  if (d.target_width != 0 && d.target_width != width)
    fail(y.name, fmt::format("{} has {} targets per example, but y has {}", role, width, d.target_width));
  d.target_width = width;
  if (width != 1 && label_problem.empty())
    label_problem = y.name + ": " + fmt::format("{} has shape {}: class labels must be one class number per example", role,
                                npy_shape_text(s));
  visit_npy(a, [&](const auto* v, std::int64_t n) {
    using T = std::remove_cv_t<std::remove_pointer_t<decltype(v)>>;
    for (std::int64_t i = 0; i < n; ++i) {
      auto value = static_cast<double>(v[i]);
      if (!std::isfinite(value))
        fail(y.name, fmt::format("{}[{}] is {}: targets and labels must be finite numbers", role, i / width, value));
      d.targets.push_back(static_cast<float>(value));
      if (!label_problem.empty()) continue;
      if constexpr (std::is_floating_point_v<T>) {
        if (value != std::floor(value))
          label_problem = y.name + ": " + fmt::format("{}[{}] is {}: not a class number (classification needs 0, 1, 2, ...; "
                                      "float targets are regression)",
                                      role, i, value);
      }
      if (label_problem.empty() && value < 0)
        label_problem = y.name + ": " + fmt::format("{}[{}] is {}: class labels must be 0, 1, 2, ...", role, i, value);
      if (label_problem.empty() && value > kMaxLabel)
        label_problem = y.name + ": " + fmt::format("{}[{}] is {}: a class number over {:g} (are these classes?)", role, i, value, kMaxLabel);
      if (label_problem.empty()) d.labels.push_back(static_cast<std::int64_t>(value));
    }
  });
}

NumpyData assemble(const Named& x, const std::optional<Named>& y, const std::optional<Named>& x_val,
                   const std::optional<Named>& y_val, std::string source) {
  NumpyData out;
  Dataset& d = out.data;
  d.source = std::move(source);
  d.shape = example_shape(x, "x");
  const std::int64_t rows = x.array.shape[0];
  const bool tokens = holds_token_ids(x.array);
  std::int64_t largest = tokens ? append_tokens(x, "x", d.features) : (append_features(x, "x", d.features), 0);
  if (!y && !tokens)
    fail(source, "no array y: only token sequences (integer x of shape (N, length)) may come without y, for the lm "
                 "objective");
  const bool float_y = y && y->array.kind == 'f';
  if (y) append_y(*y, "y", rows, x, d, d.label_problem);
  if (x_val) {
    std::vector<std::int64_t> val_shape = example_shape(*x_val, "x_val");
    if (val_shape != d.shape)
      fail(x_val->name, fmt::format("x_val has shape {}, but x has {}: their examples must have the same shape",
                                    npy_shape_text(x_val->array.shape), npy_shape_text(x.array.shape)));
    if (holds_token_ids(x_val->array) != tokens)
      fail(x_val->name, fmt::format("x_val has dtype '{}', but x has '{}': both must be token ids (integers) or "
                                    "neither",
                                    x_val->array.descr, x.array.descr));
    if (tokens)
      largest = std::max(largest, append_tokens(*x_val, "x_val", d.features));
    else
      append_features(*x_val, "x_val", d.features);
    if (y_val) append_y(*y_val, "y_val", x_val->array.shape[0], *x_val, d, d.label_problem);
    d.given_val = x_val->array.shape[0];
  }
  // Integers are class numbers (regression reads float targets: y.astype(np.float32)); a float y
  // that is not class numbers is regression targets.
  if (!d.label_problem.empty() && !float_y) throw DataError(d.label_problem);
  if (!d.label_problem.empty()) d.labels.clear();
  d.float_targets = float_y;
  if (!d.labels.empty()) d.num_classes = 1 + *std::max_element(d.labels.begin(), d.labels.end());
  if (!y) d.targets.clear(), d.target_width = 0;
  if (tokens) d.vocabulary = largest + 1;
  out.labels = y ? y->name : "";
  return out;
}

std::vector<std::string> split_list(const std::string& spec) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t comma; (comma = spec.find(',', start)) != std::string::npos; start = comma + 1)
    parts.push_back(spec.substr(start, comma - start));
  parts.push_back(spec.substr(start));
  return parts;
}

bool ends_with_npy(const std::string& part) {
  if (part.size() < 4) return false;
  std::string ext = part.substr(part.size() - 4);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".npy";
}

}  // namespace

NumpyData load_npz(const std::string& path) {
  NpzArchive archive(path);
  auto named = [&](const std::string& array) { return Named{archive.read(array), path + ":" + array + ".npy"}; };
  const bool has_x_val = archive.has("x_val"), has_y_val = archive.has("y_val");
  if (has_x_val != has_y_val && (archive.has("y") || has_y_val))
    fail(path, fmt::format("the archive has {} but no {}: a validation split needs both", has_x_val ? "x_val" : "y_val",
                           has_x_val ? "y_val" : "x_val"));
  Named x = named("x");
  std::optional<Named> y, x_val, y_val;
  // Absent: token sequences for lm; inputs of numbers need it (the archive's error names what it holds).
  if (archive.has("y") || !holds_token_ids(x.array)) y = named("y");
  if (has_x_val) {
    x_val = named("x_val");
    if (y) y_val = named("y_val");
  }
  return assemble(x, y, x_val, y_val, path);
}

bool is_npy_spec(const std::string& spec) {
  std::vector<std::string> parts = split_list(spec);
  return std::all_of(parts.begin(), parts.end(), ends_with_npy);
}

NumpyData load_npy_files(const std::string& spec) {
  std::vector<std::string> files = split_list(spec);
  if (files.size() != 2 && files.size() != 4)
    throw DataError(
        fmt::format("{}: {} .npy file(s); give X.npy,Y.npy (inputs, labels) or "
                    "X.npy,Y.npy,X_VAL.npy,Y_VAL.npy (with a validation split)",
                    spec, files.size()));
  auto named = [&](std::size_t i) { return Named{read_npy(files[i]), files[i]}; };
  Named x = named(0);
  std::optional<Named> y = named(1);
  std::optional<Named> x_val, y_val;
  if (files.size() == 4) x_val = named(2), y_val = named(3);
  return assemble(x, y, x_val, y_val, fmt::format("{}", fmt::join(files, ", ")));
}

}  // namespace nos::runtime
