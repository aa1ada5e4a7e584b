#include "runtime/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <numeric>
#include <optional>
#include <random>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runtime/data/csv.h"
#include "runtime/data/idx.h"
#include "runtime/data/numpy_data.h"

namespace nos::runtime {
namespace fs = std::filesystem;
namespace {

bool has_extension(const std::string& path, const std::string& wanted) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == wanted;
}

// PREFIX-images-idx3-ubyte or the same with .gz. Whatever exists is found, so that a FIFO or a
// directory of that name is refused by read_idx, by name, rather than reported missing.
std::string find_idx_file(const std::string& prefix, const std::string& kind, const std::string& spec) {
  std::string plain = prefix + "-" + kind;
  std::error_code ec;
  for (const std::string& candidate : {plain, plain + ".gz"})
    if (fs::exists(candidate, ec)) return candidate;
  throw DataError(spec + ": no " + plain + " or " + plain + ".gz (give fashion-mnist, a directory with " +
                  "train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz], such a file prefix, a .csv file, " +
                  "a .npz file, or X.npy,Y.npy)");
}

// Labels that leave nothing to compare: every optimizer would score the same (100 %), so a search
// or a comparison on them means nothing. `file` is where the labels came from.
void check_labels(const Dataset& data, const std::string& file) {
  if (data.size() < 2)
    throw DataError(fmt::format("{}: {} example, too few to split into training and validation", file, data.size()));
  auto [low, high] = std::minmax_element(data.labels.begin(), data.labels.end());
  if (*low == *high)
    throw DataError(fmt::format("{}: all {} labels are class {}: classification needs at least 2 classes (every model "
                                "would score 100 %)",
                                file, data.size(), *low));
}

// The one class of `part`, if it holds only one.
std::optional<std::int64_t> single_class(const Dataset& part) {
  if (part.labels.empty()) return std::nullopt;
  for (std::int64_t label : part.labels)
    if (label != part.labels.front()) return std::nullopt;
  return part.labels.front();
}

Dataset load_idx_pair(const std::string& prefix, const std::string& spec) {
  std::string images_path = find_idx_file(prefix, "images-idx3-ubyte", spec);
  std::string labels_path = find_idx_file(prefix, "labels-idx1-ubyte", spec);
  IdxArray images = read_idx(images_path, 3);
  IdxArray labels = read_idx(labels_path, 1);
  if (images.dims[0] != labels.dims[0])
    throw DataError(labels_path + ": " + std::to_string(labels.dims[0]) + " labels, but " + images_path + " holds " +
                    std::to_string(images.dims[0]) + " images");
  if (images.dims[0] == 0) throw DataError(images_path + ": no images");
  Dataset data;
  data.source = images_path + ", " + labels_path;
  data.shape = {1, images.dims[1], images.dims[2]};
  data.features.resize(images.data.size());
  std::transform(images.data.begin(), images.data.end(), data.features.begin(),
                 [](std::uint8_t p) { return static_cast<float>(p) / 255.0f; });
  data.labels.assign(labels.data.begin(), labels.data.end());
  check_labels(data, labels_path);
  data.num_classes = 1 + *std::max_element(data.labels.begin(), data.labels.end());
  return data;
}

Dataset load_csv(const std::string& path) {
  CsvTable table = read_csv(path);
  Dataset data;
  data.source = path;
  data.shape = {table.columns};
  data.features = std::move(table.features);
  data.labels = std::move(table.labels);
  check_labels(data, path);
  data.num_classes = 1 + *std::max_element(data.labels.begin(), data.labels.end());
  return data;
}

std::string datasets_root() {
  const char* root = std::getenv("NOS_DATASETS");
  return root && *root ? root : "/usr/share/datasets";
}

Dataset take(const Dataset& data, const std::vector<std::int64_t>& order, std::int64_t begin, std::int64_t end) {
  Dataset part;
  part.source = data.source;
  part.shape = data.shape;
  part.num_classes = data.num_classes;
  part.vocabulary = data.vocabulary;
  part.target_width = data.target_width;
  part.label_problem = data.label_problem;
  part.float_targets = data.float_targets;
  std::int64_t f = data.feature_count(), w = data.target_width;
  part.features.resize(static_cast<std::size_t>((end - begin) * f));
  if (data.has_labels()) part.labels.resize(static_cast<std::size_t>(end - begin));
  part.targets.resize(static_cast<std::size_t>((end - begin) * w));
  for (std::int64_t i = begin; i < end; ++i) {
    std::int64_t row = order[static_cast<std::size_t>(i)];
    std::copy_n(data.features.begin() + row * f, f, part.features.begin() + (i - begin) * f);
    if (data.has_labels()) part.labels[static_cast<std::size_t>(i - begin)] = data.labels[static_cast<std::size_t>(row)];
    std::copy_n(data.targets.begin() + row * w, w, part.targets.begin() + (i - begin) * w);
  }
  return part;
}

// Mean and standard deviation per group of columns; column c uses statistic group_of[c].
void standardize(Split& split, const std::vector<std::size_t>& group_of, std::size_t groups) {
  std::size_t f = group_of.size();
  std::vector<double> sum(groups, 0), sum_sq(groups, 0), count(groups, 0);
  for (std::size_t i = 0; i < split.train.features.size(); i += f)
    for (std::size_t c = 0; c < f; ++c) {
      double x = split.train.features[i + c];
      sum[group_of[c]] += x, sum_sq[group_of[c]] += x * x, count[group_of[c]] += 1;
    }
  std::vector<float> mean(groups), inv_std(groups);
  for (std::size_t g = 0; g < groups; ++g) {
    double m = sum[g] / count[g];
    double var = std::max(0.0, sum_sq[g] / count[g] - m * m);
    mean[g] = static_cast<float>(m);
    inv_std[g] = var > 1e-12 ? static_cast<float>(1 / std::sqrt(var)) : 1.0f;  // constant column: center only
  }
  for (Dataset* part : {&split.train, &split.val})
    for (std::size_t i = 0; i < part->features.size(); i += f)
      for (std::size_t c = 0; c < f; ++c) {
        float& x = part->features[i + c];
        x = (x - mean[group_of[c]]) * inv_std[group_of[c]];
      }
}

}  // namespace

std::int64_t Dataset::feature_count() const {
  return std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
}

bool is_dataset_name(const std::string& spec) { return spec == "fashion-mnist"; }

Dataset load_dataset(const std::string& spec) {
  if (spec == "fashion-mnist") return load_idx_pair(datasets_root() + "/fashion-mnist/train", spec);
  std::error_code ec;
  if (has_extension(spec, ".csv")) {
    if (!fs::exists(spec, ec)) throw DataError(spec + ": no such file");
    return load_csv(spec);
  }
  if (has_extension(spec, ".npz") || is_npy_spec(spec)) {
    NumpyData numpy = has_extension(spec, ".npz") ? load_npz(spec) : load_npy_files(spec);
    if (numpy.data.has_labels()) check_labels(numpy.data, numpy.labels);  // targets and bare token sequences have no classes
    else if (numpy.data.size() < 2)
      throw DataError(fmt::format("{}: {} example, too few to split into training and validation", spec, numpy.data.size()));
    return std::move(numpy.data);
  }
  if (fs::is_directory(spec, ec)) return load_idx_pair((fs::path(spec) / "train").string(), spec);
  return load_idx_pair(spec, spec);
}

std::vector<std::string> split_warnings(const Split& split) {
  std::vector<std::string> warnings;
  const Dataset& val = split.val;
  const std::string& source = val.source;
  const auto n = static_cast<double>(val.size());
  if (!val.has_labels()) return warnings;  // no classes: none of these warnings apply
  if (val.size() < kFewValidationExamples)
    warnings.push_back(fmt::format("{}: the validation split has only {} examples: its accuracy moves in steps of "
                                   "{:.2g} %, too coarse to tell optimizers apart",
                                   source, val.size(), 100 / n));
  std::vector<std::int64_t> val_count(static_cast<std::size_t>(val.num_classes), 0), train_count(val_count);
  for (std::int64_t label : val.labels) ++val_count[static_cast<std::size_t>(label)];
  for (std::int64_t label : split.train.labels) ++train_count[static_cast<std::size_t>(label)];
  auto majority = std::max_element(val_count.begin(), val_count.end());
  if (double share = static_cast<double>(*majority) / n; share >= kMajorityShare)
    warnings.push_back(fmt::format("{}: {:.1f} % of the validation split is class {}: a model that always predicts "
                                   "it scores {:.1f} %",
                                   source, 100 * share, majority - val_count.begin(), 100 * share));
  std::vector<std::int64_t> unseen;
  for (std::size_t c = 0; c < val_count.size(); ++c)
    if (val_count[c] > 0 && train_count[c] == 0) unseen.push_back(static_cast<std::int64_t>(c));
  if (!unseen.empty())
    warnings.push_back(fmt::format("{}: class(es) {} appear in the validation split but not in the training part: no "
                                   "model can get them right",
                                   source, fmt::join(unseen, ", ")));
  return warnings;
}

std::vector<std::int64_t> seeded_permutation(std::int64_t n, std::uint64_t seed) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  for (std::int64_t i = n - 1; i > 0; --i) {
    // Modulo bias is irrelevant at these sizes, and unlike uniform_int_distribution it is portable.
    auto j = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(i + 1));
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
  }
  return order;
}

Split split_dataset(const Dataset& data, const SplitOptions& options) {
  if (!(options.val_fraction > 0 && options.val_fraction < 1))
    throw std::invalid_argument("the validation fraction must lie strictly between 0 and 1, got " +
                                std::to_string(options.val_fraction));
  std::int64_t n = data.size();
  if (n < 2) throw std::invalid_argument(data.source + ": " + std::to_string(n) + " example(s), too few to split");
  // The data's own validation split: the last given_val rows, in their order; the rest is shuffled.
  const bool given = data.given_val > 0;
  std::int64_t n_val = given ? data.given_val
                             : std::clamp<std::int64_t>(std::llround(options.val_fraction * static_cast<double>(n)), 1, n - 1);
  if (given && n_val >= n) throw std::invalid_argument(data.source + ": no training examples besides x_val");
  std::vector<std::int64_t> order, val_rows(static_cast<std::size_t>(n_val));
  if (given) {
    order = seeded_permutation(n - n_val, options.seed);
    std::iota(val_rows.begin(), val_rows.end(), n - n_val);
  } else {
    // The validation part is the head of the permutation of all rows, the training part the rest.
    order = seeded_permutation(n, options.seed);
    std::copy_n(order.begin(), n_val, val_rows.begin());
    order.erase(order.begin(), order.begin() + n_val);
  }
  std::int64_t n_train = n - n_val;
  if (options.train_subset > 0) n_train = std::min(n_train, options.train_subset);
  Split split;
  split.val = take(data, val_rows, 0, n_val);
  split.train = take(data, order, 0, n_train);
  // A part with one class makes every optimizer tie: refused, as the data with one class is.
  if (std::optional<std::int64_t> only = single_class(split.val))
    throw DataError(fmt::format("{}: the validation split's {} example(s) are all class {}: a model that always "
                                "predicts it scores 100 %, so every optimizer ties ({})",
                                data.source, split.val.size(), *only,
                                given ? "give an x_val and y_val of several classes"
                                      : fmt::format("give more data or a larger val_fraction than {:g}", options.val_fraction)));
  if (std::optional<std::int64_t> only = single_class(split.train))
    throw DataError(fmt::format("{}: the {} training example(s) are all class {}: there is nothing to learn (give "
                                "more data{})",
                                data.source, split.train.size(), *only,
                                options.train_subset > 0 ? fmt::format(" or a larger train_subset than {}", options.train_subset) : ""));
  if (data.is_sequence()) return split;
  auto f = static_cast<std::size_t>(data.feature_count());
  std::vector<std::size_t> group_of(f, 0);
  if (!data.is_image()) std::iota(group_of.begin(), group_of.end(), std::size_t{0});
  standardize(split, group_of, data.is_image() ? 1 : f);
  return split;
}

}  // namespace nos::runtime
