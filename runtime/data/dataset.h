// Classification data sets for child training, by name or path, and the seeded
// train/validation split with normalization. Torch-free: the trainer turns these into tensors.
//
// A data spec is one of
//   fashion-mnist    the training half of Fashion-MNIST, from $NOS_DATASETS/fashion-mnist
//                    (default /usr/share/datasets/fashion-mnist)
//   DIR              a directory holding train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]
//                    (the MNIST layout; the t10k files may sit beside them and are not read)
//   PREFIX           PREFIX-images-idx3-ubyte[.gz] and PREFIX-labels-idx1-ubyte[.gz], e.g.
//                    /data/kmnist/train or /data/kmnist/t10k
//   FILE.csv         one example per row, numeric features, integer class label last (csv.h)
//   FILE.npz         NumPy arrays x (inputs) and y (class labels), optionally x_val and y_val: a
//                    validation split of its own (numpy_data.h: dtypes and shapes); an integer x
//                    of shape (N, L) holds token sequences (Dataset::vocabulary)
//   X.npy,Y.npy      the same as separate .npy files; X.npy,Y.npy,X_VAL.npy,Y_VAL.npy with the
//                    validation split
// Only the training files are read; the validation set is split off them (split_dataset), unless
// the data brings its own (x_val, y_val).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nos::runtime {

// The trainer's copies of a data set on CUDA devices (runtime/trainer.cpp): made by the first run
// there and kept for the next ones, since a search's worker trains thousands of children on one
// split. Never copied or moved with the data (a copy starts without). A copy is reused only while
// `features` and `labels` are where and as large as they were: data changed in place after it was
// trained on a device must be given a fresh Dataset.
struct DeviceCopies {
  DeviceCopies() = default;
  DeviceCopies(const DeviceCopies&) {}
  DeviceCopies& operator=(const DeviceCopies&) {
    slot.reset();
    return *this;
  }
  mutable std::shared_ptr<void> slot;  // the trainer's type
};

struct Dataset {
  std::string source;                 // what was read, for reports: file paths
  std::vector<float> features;        // size() x feature_count(), row-major
  std::vector<std::int64_t> labels;   // class per example, 0 .. num_classes - 1 (empty: targets, or no y)
  // Regression data (float y): target_width values per example, row-major; labels are empty.
  std::vector<float> targets;
  std::int64_t target_width = 0;
  // Why y is not class labels (fractions, several values per example, negative numbers): labels
  // are empty then. float_targets: y was float (so regression is what it means; an integer y that
  // is not class numbers is refused unless the task asks for regression).
  std::string label_problem;
  bool float_targets = false;
  std::vector<std::int64_t> shape;    // one example: {1, H, W} for images, {F} for tables
  std::int64_t num_classes = 0;
  // > 0: the last given_val examples are the data's own validation split (x_val, y_val of NumPy
  // data), which split_dataset uses as it is instead of splitting one off.
  std::int64_t given_val = 0;
  // > 0: every example is a sequence of token ids 0 .. vocabulary - 1 (shape {L}), held in
  // `features` as float32, which is exact below 2^24; split_dataset leaves them as they are.
  std::int64_t vocabulary = 0;
  DeviceCopies device_copies;

  // Examples: one label each, or (regression, token sequences without y) one row of features each.
  std::int64_t size() const {
    return labels.empty() ? static_cast<std::int64_t>(features.size()) / std::max<std::int64_t>(1, feature_count())
                          : static_cast<std::int64_t>(labels.size());
  }
  std::int64_t feature_count() const;
  bool is_image() const { return shape.size() == 3; }
  bool is_sequence() const { return vocabulary > 0; }
  bool has_labels() const { return !labels.empty(); }
  bool has_targets() const { return target_width > 0; }
};

// The largest vocabulary token data may have (ids up to kMaxVocabulary - 1): a larger id is not a
// token of a text (and an embedding of that many rows is no child network).
inline constexpr std::int64_t kMaxVocabulary = std::int64_t{1} << 20;

// Images are scaled to [0, 1] here; normalization happens in split_dataset with the training
// part's statistics. Throws DataError naming the file (or the spec when nothing matches it), also
// for data no comparison can use: fewer than 2 examples, or every label the same class.
Dataset load_dataset(const std::string& spec);

// Whether `spec` names a data set NOS knows (fashion-mnist) rather than a path: a task file's
// relative paths are resolved against its directory, these names are not.
bool is_dataset_name(const std::string& spec);

struct SplitOptions {
  double val_fraction = 1.0 / 6;  // Fashion-MNIST: 50000 train, 10000 validation
  std::int64_t train_subset = 0;  // > 0: keep this many training examples (a fast child run)
  std::uint64_t seed = 0;         // decides the split and the subset
};

struct Split {
  Dataset train, val;
};

// Shuffles with `seed`, takes the validation part, optionally subsamples the training part, then
// standardizes both with the training part's mean and standard deviation: one scalar for images
// (keeps relative pixel intensities), one per column for tables (columns have unrelated units);
// token sequences are ids, not measurements, and are left as they are.
// Data with a validation split of its own (given_val) keeps it, whatever val_fraction says, and
// shuffles and subsamples only the rest.
// Throws std::invalid_argument when the options leave either part empty, and DataError when either
// part holds a single class (every optimizer would tie: a validation split of one class scores
// 100 % for a model that always predicts it).
Split split_dataset(const Dataset& data, const SplitOptions& options);

// Below these the split is suspicious, not refused (split_warnings).
inline constexpr std::int64_t kFewValidationExamples = 100;  // accuracy in steps of more than 1 %
inline constexpr double kMajorityShare = 0.9;                // always predicting one class scores this

// What makes a comparison on `split` doubtful without making it meaningless: a validation split of
// fewer than kFewValidationExamples, one where a class makes up kMajorityShare or more, classes
// that appear in validation but not in training. Each line starts with the data's source.
std::vector<std::string> split_warnings(const Split& split);

// Fisher-Yates with a fixed generator (std::mt19937_64), so the order is the same on every
// standard library: the data order of training depends only on the seed.
std::vector<std::int64_t> seeded_permutation(std::int64_t n, std::uint64_t seed);

}  // namespace nos::runtime
