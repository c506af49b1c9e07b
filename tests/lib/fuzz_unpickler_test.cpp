// tests/lib/fuzz_unpickler_test.cpp: mutation fuzzing of the restricted unpickler and of the module
// builder behind it (lib/unpickler.h, lib/pickled_module.h).
//
// The Catch2 test is deterministic: a fixed-seed generator mutates the data.pkl of real torch.save
// files (tests/lib/pickles/make_pickles.py) a few thousand times (bit flips, interesting bytes,
// inserted/deleted/duplicated ranges, truncation, splices between files) and checks that every
// mutant either loads or is refused with a UserError: ExitCode::kInput (ExitCode::kExportFailed is
// allowed only from the module builder, for a class name mutated into an unsupported torch.nn layer).
// Anything else (InternalError, c10::Error, std::exception, a crash) fails the test.
//
// The same entry point is the libFuzzer target fuzz_unpickler (clang; with it, the pickle is also read
// in UnpickleMode::kTorchScriptCheck): scripts/fuzz.sh builds it with -DPTX_LIBFUZZER=ON
// -DPTX_SANITIZE=ON and runs it on the seeds of tests/fuzz/corpus/unpickler/.
// With another compiler, PTX_LIBFUZZER links tests/fuzz/replay_main.cpp, whose main() runs the entry
// point on each file named on its command line (to replay a crash). scripts/fuzz.sh runs it.
#include "lib/pickled_module.h"
#include "lib/unpickler.h"

#include "shapes/error.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace {

// Storages for fuzzed pickles without a file: zeros of the requested type and size, within a budget
// (a mutated size may ask for a lot).
at::Tensor synthetic_storage(const std::string& key, at::ScalarType dtype, int64_t numel) {
  PTX_USER_CHECK(numel <= (1 << 20), ptx::ExitCode::kInput, "E_FUZZ")
      << "storage '" << key << "' of " << numel << " elements is over the fuzzing budget";
  return at::zeros({numel}, at::TensorOptions().dtype(dtype));
}

enum class Outcome { kLoaded, kBuilt, kRefused };

// One input through the unpickler and, when it yields an object, the module builder. Throws anything
// that is not an accepted outcome.
Outcome fuzz_one(std::string_view pickle, const ptx::StorageLoader& storages) {
  ptx::PickleValuePtr root;
  try {
    root = ptx::unpickle(pickle, "fuzz.pkl", storages);
  } catch (const ptx::UserError& e) {
    if (e.code() != ptx::ExitCode::kInput) throw;
    return Outcome::kRefused;
  }
  (void)root->repr(500);  // the printer must cope with any tree
  try {
    ptx::module_from_pickle(*root, "fuzz.pkl");
    return Outcome::kBuilt;
  } catch (const ptx::UserError& e) {
    if (e.code() != ptx::ExitCode::kInput && e.code() != ptx::ExitCode::kExportFailed) throw;
    return Outcome::kLoaded;
  }
}

}  // namespace

#ifdef PTX_LIBFUZZER

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view pickle(reinterpret_cast<const char*>(data), size);
  fuzz_one(pickle, synthetic_storage);
  // The structural reading of a TorchScript archive's pickles (lib/torchscript_check.h).
  try {
    (void)ptx::unpickle(pickle, "fuzz.pkl", synthetic_storage, ptx::UnpickleMode::kTorchScriptCheck);
  } catch (const ptx::UserError& e) {
    if (e.code() != ptx::ExitCode::kInput) throw;
  }
  return 0;
}

#else  // the Catch2 test

#include <catch2/catch_test_macros.hpp>

namespace {

const std::filesystem::path kPickles = std::filesystem::path(PTX_BINARY_DIR) / "pickles";

// xorshift64*: deterministic across platforms and standard libraries.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed ? seed : 1) {}
  uint64_t next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 0x2545F4914F6CDD1DULL;
  }
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }

 private:
  uint64_t s_;
};

struct Seed {
  std::string name;
  std::string pickle;
  std::map<std::string, at::Tensor> storages;  // by key, as torch wrote them
};

Seed read_seed(const std::string& name) {
  ptx::TorchZipArchive zip(kPickles / (name + ".pt"));
  Seed seed{name, zip.read_record("data.pkl", ptx::kMaxPickleBytes), {}};
  for (const std::string& record : zip.records()) {
    if (!record.starts_with("data/")) continue;
    const uint64_t size = *zip.record_size(record);
    at::Tensor bytes = at::empty({static_cast<int64_t>(size)}, at::kByte);
    zip.read_record_into(record, bytes.data_ptr(), size);
    seed.storages.emplace(record.substr(5), bytes);
  }
  return seed;
}

// Like load_torch_save's loader: the record must exist and have exactly numel * itemsize bytes.
ptx::StorageLoader loader_for(const Seed& seed) {
  return [&seed](const std::string& key, at::ScalarType dtype, int64_t numel) {
    auto it = seed.storages.find(key);
    PTX_USER_CHECK(it != seed.storages.end(), ptx::ExitCode::kInput, "E_FUZZ") << "no storage '" << key << "'";
    const int64_t bytes = it->second.numel();
    const int64_t item = static_cast<int64_t>(c10::elementSize(dtype));
    PTX_USER_CHECK(numel <= bytes / item && numel * item == bytes, ptx::ExitCode::kInput, "E_FUZZ")
        << "storage '" << key << "' has " << bytes << " bytes, not " << numel << " elements";
    return it->second.view(dtype).clone();
  };
}

// Bytes that tend to matter in a pickle: opcodes, lengths, boundaries.
constexpr uint8_t kInteresting[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xff, '(', ')', '.', 'N', 'R', 'b', 'c', 'h',
                                    'q', 'u', 't', ']', '}', 'Q', 'X', 'K', 'J', 0x81, 0x85, 0x86, 0x87, 0x8a};

std::string mutate(const std::string& in, const std::vector<Seed>& seeds, Rng& rng) {
  std::string s = in;
  const size_t rounds = 1 + rng.below(2);
  for (size_t r = 0; r < rounds && !s.empty(); ++r) {
    const size_t pos = rng.below(s.size());
    switch (rng.below(9)) {
      case 0:  // flip a bit
        s[pos] = static_cast<char>(s[pos] ^ (1u << rng.below(8)));
        break;
      case 1:  // an interesting byte
        s[pos] = static_cast<char>(kInteresting[rng.below(std::size(kInteresting))]);
        break;
      case 2:  // a random byte
        s[pos] = static_cast<char>(rng.below(256));
        break;
      case 3:  // insert random bytes
        s.insert(pos, std::string(1 + rng.below(4), static_cast<char>(rng.below(256))));
        break;
      case 4:  // delete a range
        s.erase(pos, 1 + rng.below(16));
        break;
      case 5: {  // duplicate a range
        const size_t len = 1 + rng.below(std::min<size_t>(64, s.size() - pos));
        s.insert(rng.below(s.size()), s.substr(pos, len));
        break;
      }
      case 6:  // truncate
        s.resize(pos);
        break;
      case 8: {  // a new argument for a BININT1 (hyper-parameters, sizes, memo indices are often one)
        const size_t k = s.find('K', pos);
        if (k != std::string::npos && k + 1 < s.size()) s[k + 1] = static_cast<char>(rng.below(256));
        break;
      }
      case 7: {  // splice a range of another seed
        const std::string& other = seeds[rng.below(seeds.size())].pickle;
        const size_t from = rng.below(other.size());
        s.replace(pos, rng.below(32), other.substr(from, 1 + rng.below(64)));
        break;
      }
    }
  }
  return s;
}

}  // namespace

TEST_CASE("mutated torch.save pickles never crash the unpickler or the module builder", "[lib][fuzz]") {
  std::vector<Seed> seeds;
  for (const char* name : {"mlp", "cnn", "emb", "zoo1d", "zoo2d", "nested", "single", "state_dict", "lstm", "cnn.ref"}) {
    seeds.push_back(read_seed(name));
  }
  // The seeds themselves load.
  for (const Seed& seed : seeds) {
    INFO(seed.name);
    REQUIRE(fuzz_one(seed.pickle, loader_for(seed)) != Outcome::kRefused);
  }
  Rng rng(0x9e3779b97f4a7c15ULL);
  constexpr int kMutants = 4000;
  std::map<Outcome, int> outcomes;
  for (int i = 0; i < kMutants; ++i) {
    const Seed& seed = seeds[static_cast<size_t>(i) % seeds.size()];
    const std::string mutant = mutate(seed.pickle, seeds, rng);
    INFO("mutant " << i << " of " << seed.name << " (" << mutant.size() << " bytes)");
    try {
      outcomes[fuzz_one(mutant, loader_for(seed))]++;
    } catch (const ptx::Error& e) {
      FAIL("not an input error: " << e.what());
    } catch (const std::exception& e) {
      FAIL("unexpected exception: " << e.what());
    }
  }
  // Every outcome occurs: the mutations reach past the first opcodes (a mutant is refused, a mutant
  // unpickles but is not a loadable module, a mutant still builds).
  REQUIRE(outcomes[Outcome::kRefused] > 0);
  REQUIRE(outcomes[Outcome::kLoaded] > 0);
  REQUIRE(outcomes[Outcome::kBuilt] > 0);
  WARN("refused " << outcomes[Outcome::kRefused] << ", unpickled " << outcomes[Outcome::kLoaded]
                           << ", built " << outcomes[Outcome::kBuilt]);
}

TEST_CASE("the fuzz entry point accepts arbitrary bytes", "[lib][fuzz]") {
  Rng rng(42);
  for (int i = 0; i < 500; ++i) {
    std::string bytes(rng.below(64), '\0');
    for (char& c : bytes) c = static_cast<char>(kInteresting[rng.below(std::size(kInteresting))]);
    if (i % 2) bytes = "\x80\x02" + bytes;
    CHECK_NOTHROW(fuzz_one(bytes, synthetic_storage));
  }
}

#endif
