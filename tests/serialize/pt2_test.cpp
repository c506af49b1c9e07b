// tests/serialize/pt2_test.cpp: the .pt2 writer and reader: golden JSON against torch's own
// output, round trips, determinism, malformed archives, atomic writes.
// tests/e2e/test_serialize_conformance.py loads what the writer writes with torch.export.load.
// LibTorch's c10/util/Logging.h has a CHECK macro of its own: include it before Catch2's.
#include "fixtures.h"

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "serialize/pt2_reader.h"
#include "serialize/pt2_writer.h"
#include "serialize/temp_file.h"
#include "shapes/error.h"

namespace fs = std::filesystem;
using ptx::ExitCode;
using ptx::UserError;
using Catch::Matchers::ContainsSubstring;

namespace {

/// A fresh empty folder under the system's temp folder, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    static int n = 0;
    path = fs::temp_directory_path() / ("ptx_serialize_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, ec);
    fs::remove_all(path, ec);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const fs::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

/// The entries of a zip, in order, as (name, bytes).
std::vector<std::pair<std::string, std::string>> unzip(const fs::path& p) {
  int err = 0;
  zip_t* z = zip_open(p.c_str(), ZIP_RDONLY, &err);
  REQUIRE(z != nullptr);
  std::vector<std::pair<std::string, std::string>> out;
  for (zip_int64_t i = 0; i < zip_get_num_entries(z, 0); ++i) {
    zip_stat_t st;
    zip_stat_index(z, static_cast<zip_uint64_t>(i), 0, &st);
    std::string data(st.size, '\0');
    zip_file_t* f = zip_fopen_index(z, static_cast<zip_uint64_t>(i), 0);
    REQUIRE(zip_fread(f, data.data(), st.size) == static_cast<zip_int64_t>(st.size));
    zip_fclose(f);
    out.emplace_back(zip_get_name(z, static_cast<zip_uint64_t>(i), 0), data);
  }
  zip_discard(z);
  return out;
}

/// Writes `entries` as a new zip (stored) with libzip.
void rezip(const fs::path& p, const std::vector<std::pair<std::string, std::string>>& entries) {
  fs::remove(p);
  int err = 0;
  zip_t* z = zip_open(p.c_str(), ZIP_CREATE | ZIP_EXCL, &err);
  REQUIRE(z != nullptr);
  for (const auto& [name, data] : entries) {
    zip_source_t* src = zip_source_buffer(z, data.data(), data.size(), 0);
    const zip_int64_t idx = zip_file_add(z, name.c_str(), src, ZIP_FL_ENC_UTF_8);
    REQUIRE(idx >= 0);
    zip_set_file_compression(z, static_cast<zip_uint64_t>(idx), ZIP_CM_STORE, 0);
  }
  REQUIRE(zip_close(z) == 0);
}

/// Node metadata reduced as tests/serialize/golden/make_golden.py reduces torch's.
nlohmann::json normalize_model(nlohmann::json model) {
  for (auto& node : model["graph_module"]["graph"]["nodes"]) {
    nlohmann::json md = nlohmann::json::object();
    if (node["metadata"].contains("nn_module_stack")) md["nn_module_stack"] = node["metadata"]["nn_module_stack"];
    node["metadata"] = md;
  }
  return model;
}

const fs::path kGolden = fs::path(PTX_SOURCE_DIR) / "tests" / "serialize" / "golden";

void require_user_error(const std::function<void()>& f, ExitCode code, const std::vector<std::string>& parts) {
  try {
    f();
    FAIL("no error");
  } catch (const UserError& e) {
    INFO(e.what());
    CHECK(e.code() == code);
    for (const std::string& p : parts) CHECK_THAT(std::string(e.what()), ContainsSubstring(p));
  }
}

}  // namespace

TEST_CASE("golden: the JSON equals what torch.export.save writes for the same module", "[serialize][golden]") {
  ptx::test::Fixture f = ptx::test::golden_mlp();
  const ptx::serialize::Pt2Json json = ptx::serialize::serialize_pt2_json(f.ep, f.opts);
  // The golden files are torch's own output (tests/serialize/golden/make_golden.py; the e2e test
  // test_serialize_golden.py checks them against the environment's torch on every run).
  const auto golden_model = nlohmann::json::parse(slurp(kGolden / "mlp_model.json"));
  const auto ours = normalize_model(nlohmann::json::parse(json.model));
  CHECK(ours["graph_module"]["graph"] == golden_model["graph_module"]["graph"]);
  CHECK(ours["graph_module"]["signature"] == golden_model["graph_module"]["signature"]);
  CHECK(ours["graph_module"]["module_call_graph"] == golden_model["graph_module"]["module_call_graph"]);
  CHECK(ours == golden_model);
  CHECK(nlohmann::json::parse(json.weights_config) == nlohmann::json::parse(slurp(kGolden / "mlp_weights_config.json")));
  CHECK(nlohmann::json::parse(json.constants_config) ==
        nlohmann::json::parse(slurp(kGolden / "mlp_constants_config.json")));
}

TEST_CASE("the archive has torch's entries in torch's order", "[serialize]") {
  TempDir dir;
  ptx::test::Fixture f = ptx::test::golden_mlp();
  ptx::serialize::write_pt2(f.ep, dir.path / "mlp.pt2", f.opts);
  std::vector<std::string> names;
  for (const auto& [name, data] : unzip(dir.path / "mlp.pt2")) names.push_back(name);
  // The order torch.export.save 2.14 wrote for the same module.
  const std::vector<std::string> want = {
                     "mlp/data/weights/weight_0", "mlp/data/weights/weight_1", "mlp/data/weights/weight_2",
                     "mlp/data/weights/model_weights_config.json", "mlp/data/constants/model_constants_config.json",
                     "mlp/models/model.json", "mlp/data/sample_inputs/model.pt", "mlp/archive_format",
                     "mlp/archive_version", "mlp/.data/version", "mlp/byteorder", "mlp/.data/serialization_id"};
  CHECK(names == want);
  const auto entries = unzip(dir.path / "mlp.pt2");
  std::map<std::string, std::string> by_name(entries.begin(), entries.end());
  CHECK(by_name["mlp/archive_format"] == "pt2");
  CHECK(by_name["mlp/archive_version"] == "0");
  CHECK(by_name["mlp/.data/version"] == "6\n");
  CHECK(by_name["mlp/byteorder"] == "little");
  CHECK(by_name["mlp/.data/serialization_id"].size() == 40);
  CHECK(by_name["mlp/data/sample_inputs/model.pt"].empty());
  // weight_0 is fc.weight's raw float32 bytes.
  const at::Tensor w = f.ep.parameters.at("fc.weight");
  CHECK(by_name["mlp/data/weights/weight_0"] == std::string(static_cast<const char*>(w.data_ptr()), 48));
}

TEST_CASE("write then read gives the same program", "[serialize][roundtrip]") {
  for (const auto& [name, make] : ptx::test::all_fixtures()) {
    DYNAMIC_SECTION(name) {
      TempDir dir;
      ptx::test::Fixture f = make();
      const fs::path out = dir.path / (name + ".pt2");
      ptx::serialize::write_pt2(f.ep, out, f.opts);
      std::map<std::string, int64_t> hints;
      const ptx::ir::ExportedProgram back = ptx::serialize::read_pt2(out, &hints);
      CHECK(ptx::test::describe(back) == ptx::test::describe(f.ep));
      CHECK(hints == f.opts.symbol_hints);
      // Writing what was read gives the same bytes again.
      const fs::path again = dir.path / "copy" / (name + ".pt2");
      fs::create_directories(again.parent_path());
      ptx::serialize::write_pt2(back, again, f.opts);
      CHECK(slurp(again) == slurp(out));
    }
  }
}

TEST_CASE("two writes of one program are byte-identical", "[serialize][determinism]") {
  TempDir dir;
  fs::create_directories(dir.path / "a");
  fs::create_directories(dir.path / "b");
  ptx::test::Fixture f1 = ptx::test::buffers();
  ptx::test::Fixture f2 = ptx::test::buffers();  // rebuilt from scratch: fresh symbols, fresh tensors
  ptx::serialize::write_pt2(f1.ep, dir.path / "a" / "m.pt2", f1.opts);
  ptx::serialize::write_pt2(f2.ep, dir.path / "b" / "m.pt2", f2.opts);
  const std::string a = slurp(dir.path / "a" / "m.pt2");
  CHECK(!a.empty());
  CHECK(a == slurp(dir.path / "b" / "m.pt2"));
  // Overwriting an artifact in place gives the same bytes too.
  ptx::serialize::write_pt2(f1.ep, dir.path / "a" / "m.pt2", f1.opts);
  CHECK(a == slurp(dir.path / "a" / "m.pt2"));
}

TEST_CASE("tied weights share one file, as torch writes them", "[serialize]") {
  TempDir dir;
  ptx::test::Fixture f = ptx::test::mlp();
  f.ep.parameters["fc2.bias"] = f.ep.parameters["fc1.weight"].view({-1}).narrow(0, 3, 2);
  ptx::serialize::write_pt2(f.ep, dir.path / "m.pt2", f.opts);
  const auto config = nlohmann::json::parse(unzip(dir.path / "m.pt2")[3].second);
  CHECK(config["config"]["fc2.bias"]["path_name"] == config["config"]["fc1.weight"]["path_name"]);
  CHECK(config["config"]["fc2.bias"]["tensor_meta"]["storage_offset"]["as_int"] == 3);
  const ptx::ir::ExportedProgram back = ptx::serialize::read_pt2(dir.path / "m.pt2");
  CHECK(at::equal(back.parameters.at("fc2.bias"), f.ep.parameters.at("fc2.bias")));
}

TEST_CASE("malformed archives are input errors naming the file and the entry", "[serialize][errors]") {
  TempDir dir;
  ptx::test::Fixture f = ptx::test::golden_mlp();
  const fs::path good = dir.path / "mlp.pt2";
  ptx::serialize::write_pt2(f.ep, good, f.opts);
  const auto entries = unzip(good);
  const fs::path bad = dir.path / "bad.pt2";
  auto read_bad = [&] { ptx::serialize::read_pt2(bad); };
  auto with = [&](const std::string& entry, const std::string& data) {
    auto e = entries;
    for (auto& [n, d] : e) {
      if (n == entry) d = data;
    }
    rezip(bad, e);
  };

  SECTION("missing file") {
    require_user_error([&] { ptx::serialize::read_pt2(dir.path / "none.pt2"); }, ExitCode::kInput,
                       {"cannot read", "none.pt2"});
  }
  SECTION("not a zip") {
    spit(bad, "this is not a zip archive at all");
    require_user_error(read_bad, ExitCode::kInput, {"bad.pt2", "not a valid zip archive"});
  }
  SECTION("truncated") {
    const std::string bytes = slurp(good);
    for (size_t keep : {bytes.size() / 2, bytes.size() - 10, size_t{100}}) {
      spit(bad, bytes.substr(0, keep));
      require_user_error(read_bad, ExitCode::kInput, {"bad.pt2"});
    }
  }
  SECTION("an entry outside the top folder") {
    auto e = entries;
    e.emplace_back("evil/payload", "x");
    rezip(bad, e);
    require_user_error(read_bad, ExitCode::kInput, {"bad.pt2", "'evil/payload'", "outside", "'mlp/'"});
  }
  SECTION("wrong archive_format") {
    with("mlp/archive_format", "zip");
    require_user_error(read_bad, ExitCode::kInput, {"bad.pt2", "archive_format is 'zip'"});
  }
  SECTION("wrong archive_version") {
    with("mlp/archive_version", "7");
    require_user_error(read_bad, ExitCode::kInput, {"bad.pt2", "archive_version is '7'"});
  }
  SECTION("bad JSON") {
    with("mlp/models/model.json", "{\"graph_module\": [1, 2");
    require_user_error(read_bad, ExitCode::kInput, {"bad.pt2", "mlp/models/model.json", "bad JSON"});
  }
  SECTION("JSON of the wrong shape") {
    with("mlp/models/model.json", "{\"graph_module\": 3}");
    require_user_error(read_bad, ExitCode::kInput, {"bad.pt2", "mlp/models/model.json"});
    with("mlp/models/model.json", "[]");
    require_user_error(read_bad, ExitCode::kInput, {"bad.pt2"});
  }
  SECTION("a schema major version other than 8") {
    auto model = nlohmann::json::parse(ptx::serialize::serialize_pt2_json(f.ep, f.opts).model);
    model["schema_version"]["major"] = 9;
    with("mlp/models/model.json", model.dump());
    require_user_error(read_bad, ExitCode::kInput, {"bad.pt2", "schema version 9"});
  }
  SECTION("a weight whose size disagrees with its meta") {
    with("mlp/data/weights/weight_0", std::string(40, '\0'));
    require_user_error(read_bad, ExitCode::kInput,
                       {"bad.pt2", "mlp/data/weights/weight_0", "has 40 bytes", "'fc.weight'", "needs 48"});
    with("mlp/data/weights/weight_0", std::string(47, '\0'));
    require_user_error(read_bad, ExitCode::kInput, {"has 47 bytes"});
  }
  SECTION("a pickled weight is refused, never unpickled") {
    auto config = nlohmann::json::parse(ptx::serialize::serialize_pt2_json(f.ep, f.opts).weights_config);
    config["config"]["fc.bias"]["use_pickle"] = true;
    with("mlp/data/weights/model_weights_config.json", config.dump());
    require_user_error(read_bad, ExitCode::kInput, {"bad.pt2", "'fc.bias'", "pickled"});
  }
  SECTION("a symbolic size that is not sympy") {
    std::string model = ptx::serialize::serialize_pt2_json(f.ep, f.opts).model;
    const std::string from = "Symbol('s77', positive=True, integer=True)";
    model.replace(model.find(from), from.size(), "s77 +* 2");
    with("mlp/models/model.json", model);
    require_user_error(read_bad, ExitCode::kInput, {"bad.pt2", "s77 +* 2"});
  }
  SECTION("a node reading an unknown value") {
    auto model = nlohmann::json::parse(ptx::serialize::serialize_pt2_json(f.ep, f.opts).model);
    model["graph_module"]["graph"]["nodes"][2]["inputs"][0]["arg"]["as_tensor"]["name"] = "ghost";
    with("mlp/models/model.json", model.dump());
    require_user_error(read_bad, ExitCode::kInput, {"bad.pt2", "node 'relu'", "'ghost'"});
  }
}

TEST_CASE("a failed write leaves no temporary and keeps the old artifact", "[serialize][atomic]") {
  TempDir dir;
  ptx::test::Fixture f = ptx::test::mlp();
  const int inflight = ptx::serialize::inflight_temp_file_count();

  SECTION("a folder that does not exist") {
    require_user_error([&] { ptx::serialize::write_pt2(f.ep, dir.path / "no" / "such" / "m.pt2", f.opts); },
                       ExitCode::kOutput, {"cannot write", "m.pt2"});
    CHECK(listing(dir.path).empty());
  }
  SECTION("a read-only folder") {
    const fs::path ro = dir.path / "ro";
    fs::create_directories(ro);
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
    if (::geteuid() == 0) {
      // root writes anyway; a file system that refuses new files stands in for the read-only folder
      require_user_error([&] { ptx::serialize::write_pt2(f.ep, "/proc/self/m.pt2", f.opts); }, ExitCode::kOutput,
                         {"cannot write /proc/self/m.pt2"});
    } else {
      require_user_error([&] { ptx::serialize::write_pt2(f.ep, ro / "m.pt2", f.opts); }, ExitCode::kOutput,
                         {"cannot write", "m.pt2"});
    }
    fs::permissions(ro, fs::perms::owner_all);
    CHECK(listing(ro).empty());
  }
  SECTION("an existing artifact survives a failed rename") {
    // The destination is a non-empty folder: rename fails after the temporary is complete.
    const fs::path out = dir.path / "m.pt2";
    fs::create_directories(out / "keep");
    require_user_error([&] { ptx::serialize::write_pt2(f.ep, out, f.opts); }, ExitCode::kOutput,
                       {"cannot write", "m.pt2"});
    CHECK(listing(dir.path) == std::vector<std::string>{"m.pt2"});
    CHECK(listing(out) == std::vector<std::string>{"keep"});
  }
  SECTION("an existing artifact survives a program that cannot be written") {
    const fs::path out = dir.path / "m.pt2";
    ptx::serialize::write_pt2(f.ep, out, f.opts);
    const std::string before = slurp(out);
    ptx::test::Fixture broken = ptx::test::mlp();
    broken.ep.parameters.erase("fc1.weight");
    CHECK_THROWS_AS(ptx::serialize::write_pt2(broken.ep, out, broken.opts), ptx::InternalError);
    CHECK(slurp(out) == before);
    CHECK(listing(dir.path) == std::vector<std::string>{"m.pt2"});
  }
  CHECK(ptx::serialize::inflight_temp_file_count() == inflight);
}

TEST_CASE("in-flight temporaries can be removed by a signal handler", "[serialize][atomic]") {
  TempDir dir;
  const int before = ptx::serialize::inflight_temp_file_count();
  {
    ptx::serialize::TempFile tmp(dir.path / "m.pt2");
    spit(tmp.path(), "partial");
    CHECK(ptx::serialize::inflight_temp_file_count() == before + 1);
    CHECK(tmp.path().parent_path() == dir.path);
    CHECK(tmp.path().stem() == "m");  // torch's writer names the archive's top folder after it
    ptx::serialize::remove_inflight_temp_files();
    CHECK(listing(dir.path).empty());
  }
  CHECK(ptx::serialize::inflight_temp_file_count() == before);
}

// ---- the write stage's check (read_pt2_written, issue 14) -----------------------------------------

namespace {
/// Every tensor of `back` is the written program's own tensor (same storage), by name.
bool shares_tensors(const ptx::ir::ExportedProgram& back, const ptx::ir::ExportedProgram& written) {
  auto same = [](const auto& a, const auto& b) {
    if (a.size() != b.size()) return false;
    for (const auto& [name, t] : a) {
      auto it = b.find(name);
      if (it == b.end() || !it->second.is_same(t)) return false;
    }
    return true;
  };
  return same(back.parameters, written.parameters) && same(back.buffers, written.buffers) &&
         same(back.constants, written.constants);
}

/// The zip's own CRC-32 of each entry (written by LibTorch's archive writer, miniz), by name.
std::map<std::string, uint32_t> zip_crcs(const fs::path& p) {
  int err = 0;
  zip_t* z = zip_open(p.c_str(), ZIP_RDONLY, &err);
  REQUIRE(z != nullptr);
  std::map<std::string, uint32_t> out;
  for (zip_int64_t i = 0; i < zip_get_num_entries(z, 0); ++i) {
    zip_stat_t st;
    zip_stat_index(z, static_cast<zip_uint64_t>(i), 0, &st);
    out[st.name] = st.crc;
  }
  zip_discard(z);
  return out;
}
}  // namespace

TEST_CASE("the write stage's read-back takes the written tensors once their entries match", "[serialize][roundtrip]") {
  for (const auto& [name, make] : ptx::test::all_fixtures()) {
    DYNAMIC_SECTION(name) {
      TempDir dir;
      ptx::test::Fixture f = make();
      const fs::path out = dir.path / (name + ".pt2");
      ptx::serialize::TempFile tmp(out);
      const ptx::serialize::WrittenEntries entries = ptx::serialize::write_pt2_uncommitted(f.ep, tmp, f.opts);
      const ptx::ir::ExportedProgram back = ptx::serialize::read_pt2_written(tmp.path(), f.ep, entries, out);
      CHECK(ptx::test::describe(back) == ptx::test::describe(f.ep));
      CHECK(shares_tensors(back, f.ep));
      // The graph is the file's: the same as read_pt2 reads (weights and all).
      CHECK(ptx::test::describe(ptx::serialize::read_pt2(tmp.path())) == ptx::test::describe(back));
      // The writer's digests are the zip's own CRCs (computed by LibTorch's writer) and sizes.
      const auto crcs = zip_crcs(tmp.path());
      const auto files = unzip(tmp.path());
      const std::string root = files.front().first.substr(0, files.front().first.find('/') + 1);
      for (const auto& [entry, w] : entries) {
        INFO(entry);
        CHECK(crcs.at(root + entry) == w.crc32);
        for (const auto& [n, data] : files) {
          if (n == root + entry) CHECK(data.size() == w.nbytes);
        }
      }
    }
  }
}

TEST_CASE("a weight changed in the file between write and check is E_ROUNDTRIP naming it", "[serialize][roundtrip][errors]") {
  TempDir dir;
  ptx::test::Fixture f = ptx::test::mlp();
  const fs::path out = dir.path / "m.pt2";
  ptx::serialize::TempFile tmp(out);
  ptx::serialize::WrittenEntries entries = ptx::serialize::write_pt2_uncommitted(f.ep, tmp, f.opts);
  const std::string good = slurp(tmp.path());
  const at::Tensor w = f.ep.parameters.at("fc2.weight");
  const std::string raw(static_cast<const char*>(w.data_ptr()), static_cast<size_t>(w.nbytes()));
  const size_t at = good.find(raw);
  REQUIRE(at != std::string::npos);
  REQUIRE(good.find(raw, at + 1) == std::string::npos);
  auto check = [&] { (void)ptx::serialize::read_pt2_written(tmp.path(), f.ep, entries, out); };
  const std::vector<std::string> names{out.string(), tmp.path().string(), "parameter 'fc2.weight'",
                                       "it was not written"};

  SECTION("a flipped bit inside the weight's bytes") {
    std::string bad = good;
    bad[at + raw.size() / 2] ^= 0x10;
    spit(tmp.path(), bad);
    std::vector<std::string> parts = names;
    parts.push_back("CRC-32");
    require_user_error(check, ExitCode::kVerifyMismatch, parts);
    // verify/run/inspect read weights whole as before: libzip's CRC check refuses the entry.
    require_user_error([&] { (void)ptx::serialize::read_pt2(tmp.path()); }, ExitCode::kInput,
                       {"corrupt (CRC error)", "data/weights/"});
  }
  SECTION("other bytes with a consistent zip CRC (only the writer's digest tells)") {
    auto files = unzip(tmp.path());
    bool changed = false;
    for (auto& [n, data] : files) {
      if (data == raw) {
        data[3] ^= 0x01;
        changed = true;
      }
    }
    REQUIRE(changed);
    rezip(tmp.path(), files);
    CHECK_NOTHROW(ptx::serialize::read_pt2(tmp.path()));  // a valid archive, other weights
    require_user_error(check, ExitCode::kVerifyMismatch, names);
  }
  SECTION("a writer's digest that the file does not have") {
    for (auto& [entry, e] : entries) {
      if (e.storage == w.storage().data()) e.crc32 ^= 1;
    }
    require_user_error(check, ExitCode::kVerifyMismatch, names);
  }
  SECTION("a program other than the one written, with equal values") {
    const ptx::test::Fixture other = ptx::test::mlp();  // fresh tensors: other storages
    require_user_error([&] { (void)ptx::serialize::read_pt2_written(tmp.path(), other.ep, entries, out); },
                       ExitCode::kVerifyMismatch, {out.string(), "another tensor's storage"});
  }
  SECTION("a written tensor the archive does not have") {
    ptx::test::Fixture more = ptx::test::mlp();
    more.ep.parameters = f.ep.parameters;  // the tensors written, and one more
    more.ep.buffers["extra"] = at::ones({2});
    require_user_error([&] { (void)ptx::serialize::read_pt2_written(tmp.path(), more.ep, entries, out); },
                       ExitCode::kVerifyMismatch, {out.string(), "buffer 'extra' is not in the archive read back"});
  }
}
