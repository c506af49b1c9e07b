// tests/lib/unpickler_test.cpp: the restricted unpickler (lib/unpickler.h) on hand-written pickles and
// on real torch.save files made by tests/lib/pickles/make_pickles.py.
#include "lib/unpickler.h"

#include "shapes/error.h"

#include <ATen/ATen.h>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <filesystem>
#include <fstream>
#include <string>

using Catch::Matchers::ContainsSubstring;
using ptx::ExitCode;
using ptx::PickleValue;
using K = ptx::PickleValue::Kind;
using namespace std::string_literals;

namespace {

const std::filesystem::path kPickles = std::filesystem::path(PTX_BINARY_DIR) / "pickles";

// A few helpers to write protocol-2 pickles by hand.
std::string u32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}
std::string str(const std::string& s) { return "X" + u32(static_cast<uint32_t>(s.size())) + s; }
std::string global(const std::string& module, const std::string& name) { return "c" + module + "\n" + name + "\n"; }
const std::string kProto = "\x80\x02";

// Runs the unpickler expecting a UserError with ExitCode::kInput; returns its message.
std::string refusal(const std::string& pickle, const ptx::StorageLoader& loader = {}) {
  try {
    ptx::unpickle(pickle, "test.pkl", loader);
  } catch (const ptx::UserError& e) {
    REQUIRE(e.code() == ExitCode::kInput);
    return e.what();
  }
  FAIL("the pickle was accepted");
  return "";
}

// A loader that hands out storages of `numel` zero floats whatever the key.
at::Tensor zeros_storage(const std::string&, at::ScalarType dtype, int64_t numel) {
  return at::zeros({numel}, at::TensorOptions().dtype(dtype));
}

std::string tensor_pickle(int64_t storage_numel, const std::string& size, const std::string& stride, int offset) {
  // _rebuild_tensor_v2(('storage', torch.FloatStorage, '0', 'cpu', N) as a persistent id, offset, size, stride,
  //                    False, OrderedDict())
  return kProto + global("torch._utils", "_rebuild_tensor_v2") + "(" + "(" + str("storage") +
         global("torch", "FloatStorage") + str("0") + str("cpu") + "J" + u32(static_cast<uint32_t>(storage_numel)) +
         "tQ" + "J" + u32(static_cast<uint32_t>(offset)) + size + stride + "\x89" + global("collections", "OrderedDict") +
         ")Rt" + "R.";
}

}  // namespace

TEST_CASE("unpickler reads plain values", "[lib][unpickler]") {
  // {'a': [None, True, 7, -2, 1.5, 'x'], 'b': (1, 2), 'c': OrderedDict(), 300: {1, 2}}
  const std::string p = kProto + "}q\x00("s + str("a") + "](N\x88K\x07J" + u32(static_cast<uint32_t>(-2)) +
                        "G\x3f\xf8\x00\x00\x00\x00\x00\x00"s + str("x") + "e" + str("b") + "K\x01K\x02\x86" +
                        str("c") + global("collections", "OrderedDict") + ")R" + "M\x2c\x01" +
                        global("__builtin__", "set") + "](K\x01K\x02" "e\x85R" + "u.";
  ptx::PickleValuePtr v = ptx::unpickle(p, "test.pkl");
  REQUIRE(v->is(K::kDict));
  REQUIRE(v->entries().size() == 4);
  const auto& a = v->get("a")->items();
  REQUIRE(a.size() == 6);
  REQUIRE(a[0]->is_none());
  REQUIRE(a[5]->as_str() == "x");
  REQUIRE(a[1]->as_bool());
  REQUIRE(a[2]->as_int() == 7);
  REQUIRE(a[3]->as_int() == -2);
  REQUIRE(a[4]->as_float() == 1.5);
  REQUIRE(v->get("b")->is(K::kTuple));
  REQUIRE(v->get("b")->items()[1]->as_int() == 2);
  REQUIRE(v->get("c")->type_name() == "OrderedDict");
  REQUIRE(v->entries()[3].first->as_int() == 300);
  REQUIRE(v->entries()[3].second->is(K::kSet));
  REQUIRE(v->repr() == "{'a': [None, True, 7, -2, 1.5, 'x'], 'b': (1, 2), 'c': {}, 300: {1, 2}}");
}

TEST_CASE("unpickler decodes LONG1 and refuses integers beyond 64 bits", "[lib][unpickler]") {
  REQUIRE(ptx::unpickle(kProto + "\x8a\x02\x00\xff."s, "t")->as_int() == -256);
  REQUIRE(ptx::unpickle(kProto + "\x8a\x08\xff\xff\xff\xff\xff\xff\xff\x7f.", "t")->as_int() == INT64_MAX);
  REQUIRE(ptx::unpickle(kProto + "\x8a\x00."s, "t")->as_int() == 0);
  CHECK_THAT(refusal(kProto + "\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01."s),
             ContainsSubstring("does not fit in 64 bits"));
}

TEST_CASE("unpickler shares memoized values", "[lib][unpickler]") {
  ptx::PickleValuePtr v = ptx::unpickle(kProto + "]q\x00h\x00\x86."s, "t");  // ([], <same list>)
  REQUIRE(v->items().size() == 2);
  REQUIRE(v->items()[0].get() == v->items()[1].get());
}

TEST_CASE("unpickler refuses globals outside the allowlist, naming them", "[lib][unpickler][security]") {
  SECTION("os.system") {
    const std::string msg = refusal(kProto + global("os", "system") + str("touch /tmp/x") + "\x85R.");
    CHECK_THAT(msg, ContainsSubstring("global 'os.system' is refused"));
    CHECK_THAT(msg, ContainsSubstring("never runs code"));
  }
  SECTION("builtins.eval written as __builtin__ (protocol 2)") {
    CHECK_THAT(refusal(kProto + global("__builtin__", "eval") + str("1") + "\x85R."),
               ContainsSubstring("global 'builtins.eval' is refused"));
  }
  SECTION("a user class explains TorchScript") {
    const std::string msg = refusal(kProto + global("__main__", "Net") + ")\x81}b.");
    CHECK_THAT(msg, ContainsSubstring("class '__main__.Net' is not a standard torch.nn layer"));
    CHECK_THAT(msg, ContainsSubstring("torch.jit.script(model).save"));
  }
  SECTION("STACK_GLOBAL goes through the same allowlist") {
    CHECK_THAT(refusal("\x80\x04" + str("posix") + str("system") + "\x93."), ContainsSubstring("'posix.system'"));
  }
  SECTION("allowlisted functions cannot be called in ways they do not support") {
    CHECK_THAT(refusal(kProto + global("torch", "FloatStorage") + ")R."), ContainsSubstring("cannot be called"));
    CHECK_THAT(refusal(kProto + global("torch.nn.modules.linear", "Linear") + ")R."),
               ContainsSubstring("cannot be called"));
    CHECK_THAT(refusal(kProto + global("torch._utils", "_rebuild_tensor_v2") + ")\x81."),
               ContainsSubstring("only torch.nn layer classes can be instantiated"));
    CHECK_THAT(refusal(kProto + global("collections", "OrderedDict") + "K\x01\x85R."), ContainsSubstring("takes 0"));
  }
}

TEST_CASE("unpickler builds inert torch.nn objects", "[lib][unpickler]") {
  // Linear.__new__ + BUILD({'in_features': 3}), and the protocol 0/1 form via copyreg._reconstructor.
  ptx::PickleValuePtr v = ptx::unpickle(
      kProto + global("torch.nn.modules.linear", "Linear") + ")\x81}" + str("in_features") + "K\x03sb.", "t");
  REQUIRE(v->is(K::kObject));
  REQUIRE(v->qualified_name() == "torch.nn.modules.linear.Linear");
  REQUIRE(v->state()->get("in_features")->as_int() == 3);
  ptx::PickleValuePtr r = ptx::unpickle(kProto + global("copy_reg", "_reconstructor") + global("torch.nn.modules.activation", "ReLU") +
                                            global("__builtin__", "object") + "N\x87R}b.",
                                        "t");
  REQUIRE(r->qualified_name() == "torch.nn.modules.activation.ReLU");
  CHECK_THAT(refusal(kProto + global("torch.nn.modules.linear", "Linear") + ")\x81}b}b."), ContainsSubstring("BUILD twice"));
}

TEST_CASE("unpickler rebuilds tensors inside their storage only", "[lib][unpickler]") {
  const std::string size23 = "K\x02K\x03\x86", stride31 = "K\x03K\x01\x86";
  ptx::PickleValuePtr t = ptx::unpickle(tensor_pickle(6, size23, stride31, 0), "t", zeros_storage);
  REQUIRE(t->is(K::kTensor));
  REQUIRE(t->tensor().sizes() == at::IntArrayRef({2, 3}));
  CHECK_FALSE(t->is_parameter());
  CHECK_THAT(refusal(tensor_pickle(5, size23, stride31, 0), zeros_storage), ContainsSubstring("reaches past its storage"));
  CHECK_THAT(refusal(tensor_pickle(6, size23, stride31, 1), zeros_storage), ContainsSubstring("reaches past its storage"));
  CHECK_THAT(refusal(tensor_pickle(1, size23, "K\x00K\x00\x86"s, 0), zeros_storage),
             ContainsSubstring("more elements than its storage"));
  CHECK_THAT(refusal(tensor_pickle(6, size23, "K\x01\x85", 0), zeros_storage), ContainsSubstring("different lengths"));
  CHECK_THAT(refusal(tensor_pickle(6, size23, stride31, 0)), ContainsSubstring("where none is expected"));
  // Sizes whose product overflows int64.
  const std::string huge = "J" + u32(0x7fffffff) + "J" + u32(0x7fffffff) + "J" + u32(0x7fffffff) + "\x87";
  CHECK_THAT(refusal(tensor_pickle(6, huge, "K\x01K\x01K\x01\x87", 0), zeros_storage), ContainsSubstring("overflows"));
}

TEST_CASE("unpickler refuses malformed pickles", "[lib][unpickler][malformed]") {
  CHECK_THAT(refusal(""), ContainsSubstring("empty pickle"));
  CHECK_THAT(refusal(kProto + "N"), ContainsSubstring("truncated"));
  CHECK_THAT(refusal(kProto + "\xff."), ContainsSubstring("unsupported opcode 0xff"));
  CHECK_THAT(refusal(kProto + "I12\n."), ContainsSubstring("unsupported opcode 0x49 ('I')"));
  CHECK_THAT(refusal(kProto + "a."), ContainsSubstring("stack underflow"));
  CHECK_THAT(refusal(kProto + "e."), ContainsSubstring("no MARK"));
  CHECK_THAT(refusal(kProto + "h\x05."), ContainsSubstring("memo entry 5 was never stored"));
  CHECK_THAT(refusal(kProto + "NN."), ContainsSubstring("left on the stack"));
  CHECK_THAT(refusal("\x80\x07N."), ContainsSubstring("protocol 7"));
  CHECK_THAT(refusal(kProto + "X\xff\xff\xff\xff."), ContainsSubstring("truncated"));  // 4 GB string, no allocation
  CHECK_THAT(refusal(kProto + "X" + u32(2) + "\xc3\x28."), ContainsSubstring("not valid UTF-8"));
  CHECK_THAT(refusal(kProto + "K\x01K\x02K\x03s."), ContainsSubstring("SETITEM on a int"));
  CHECK_THAT(refusal(kProto + "c" + std::string(2000, 'a')), ContainsSubstring("no end of line"));
  SECTION("a value cannot contain itself") {
    CHECK_THAT(refusal(kProto + "]q\x00h\x00"s "a."), ContainsSubstring("would contain itself"));
  }
  SECTION("a container cannot change once inside another value (no cycles)") {
    // l = []; t = (l,); l.append(t)
    CHECK_THAT(refusal(kProto + "]q\x00h\x00\x85q\x01h\x00h\x01"s "a."), ContainsSubstring("already placed inside"));
  }
  SECTION("deep nesting") {
    std::string deep = kProto;
    for (int i = 0; i < 1500; ++i) deep += "]";
    for (int i = 0; i < 1499; ++i) deep += "a";
    CHECK_THAT(refusal(deep + "."), ContainsSubstring("nest deeper than 1000"));
    CHECK_THAT(refusal(kProto + std::string(1500, '(')), ContainsSubstring("MARKs nest deeper"));
    // 900 levels are fine.
    std::string ok = kProto;
    for (int i = 0; i < 900; ++i) ok += "]";
    for (int i = 0; i < 899; ++i) ok += "a";
    REQUIRE(ptx::unpickle(ok + ".", "t")->is(K::kList));
  }
}

TEST_CASE("load_torch_save reads a real torch.save file", "[lib][unpickler][torch]") {
  ptx::PickleValuePtr root = ptx::load_torch_save(kPickles / "mlp.pt");
  REQUIRE(root->is(K::kObject));
  REQUIRE(root->qualified_name() == "torch.nn.modules.container.Sequential");
  const ptx::PickleValuePtr modules = root->state()->get("_modules");
  REQUIRE(modules);
  REQUIRE(modules->entries().size() == 6);
  const PickleValue& linear = *modules->get("0");
  REQUIRE(linear.qualified_name() == "torch.nn.modules.linear.Linear");
  REQUIRE(linear.state()->get("in_features")->as_int() == 8);
  const PickleValue& weight = *linear.state()->get("_parameters")->get("weight");
  REQUIRE(weight.is_parameter());
  REQUIRE(weight.requires_grad());
  REQUIRE(weight.tensor().sizes() == at::IntArrayRef({16, 8}));
  REQUIRE(modules->get("4")->state()->get("p")->as_float() == 0.2);
  // The weights equal those torch itself stored (the scripted copy of the same model).
  ptx::PickleValuePtr ref = ptx::load_torch_save(kPickles / "mlp.ref.pt");
  REQUIRE(ref->is(K::kDict));
  REQUIRE(ref->get("input")->tensor().sizes() == at::IntArrayRef({5, 8}));
  REQUIRE(ref->get("output")->tensor().sizes() == at::IntArrayRef({5, 4}));
  // The eager output, recomputed from the loaded weights with ATen, matches the reference.
  at::Tensor x = ref->get("input")->tensor();
  auto lin = [&](const char* i, const at::Tensor& in) {
    const auto& p = modules->get(i)->state()->get("_parameters");
    return at::linear(in, p->get("weight")->tensor(), p->get("bias")->tensor());
  };
  at::Tensor y = lin("5", at::tanh(lin("2", at::relu(lin("0", x)))));
  REQUIRE(at::allclose(y, ref->get("output")->tensor(), 1e-5, 1e-6));
}

TEST_CASE("malicious torch.save files are refused and their payload never runs", "[lib][unpickler][security]") {
  for (const auto& [file, global] : {std::pair{"os_system", "os.system"}, std::pair{"posix_system", "posix.system"},
                                     std::pair{"builtins_eval", "builtins.eval"}}) {
    INFO(file);
    const auto marker = kPickles / (std::string("MARKER.") + file);
    REQUIRE_FALSE(std::filesystem::exists(marker));
    try {
      ptx::load_torch_save(kPickles / (std::string(file) + ".pt"));
      FAIL("accepted");
    } catch (const ptx::UserError& e) {
      REQUIRE(e.code() == ExitCode::kInput);
      CHECK_THAT(std::string(e.what()), ContainsSubstring(std::string("global '") + global + "' is refused"));
    }
    CHECK_FALSE(std::filesystem::exists(marker));
  }
}

TEST_CASE("damaged torch.save archives are input errors", "[lib][unpickler][malformed]") {
  auto code_and_message = [](const std::string& file) {
    try {
      ptx::load_torch_save(kPickles / file);
    } catch (const ptx::UserError& e) {
      REQUIRE(e.code() == ExitCode::kInput);
      return std::string(e.what());
    }
    FAIL("accepted " << file);
    return std::string();
  };
  CHECK_THAT(code_and_message("bad_storage_size.pt"), ContainsSubstring("storage '0' should hold 128 Float elements (512 bytes), but its record has 508 bytes"));
  CHECK_THAT(code_and_message("missing_storage.pt"), ContainsSubstring("storage '1' has no record"));
  CHECK_THAT(code_and_message("big_endian.pt"), ContainsSubstring("byteorder 'big' is not supported"));
  CHECK_THAT(code_and_message("legacy.pt"), ContainsSubstring("not a zip archive"));
  CHECK_THAT(code_and_message("no_such_file.pt"), ContainsSubstring("cannot read the file"));
}

TEST_CASE("TorchZipArchive lists records under the top folder", "[lib][unpickler]") {
  ptx::TorchZipArchive zip(kPickles / "mlp.pt");
  REQUIRE(zip.top() == "mlp");
  REQUIRE(zip.has_record("data.pkl"));
  REQUIRE(zip.has_record("data/0"));
  REQUIRE(zip.record_size("data/0") == 16 * 8 * 4);
  CHECK_FALSE(zip.has_record("code/__torch__.py"));
  CHECK_THROWS_AS(zip.read_record("data.pkl", 10), ptx::UserError);
}
