// lib/unpickler_run.cpp: the unpickler's opcode loop (CPython's Lib/pickle.py
// _Unpickler.load). See lib/unpickler_impl.h.
#include <ATen/ATen.h>

#include <bit>
#include <cstring>
#include <limits>
#include <string>

#include "lib/unpickler_impl.h"
#include "shapes/error.h"

namespace ptx {

namespace {
// Pickle opcodes (CPython Lib/pickle.py). Text-mode protocol 0 opcodes and out-of-band buffers
// (protocol 5) are not accepted; torch.save writes protocol 2.
enum Op : uint8_t {
  MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2', BININT = 'J', BININT1 = 'K',
  BININT2 = 'M', NONE = 'N', BINPERSID = 'Q', REDUCE = 'R', BINSTRING = 'T', SHORT_BINSTRING = 'U',
  BINUNICODE = 'X', APPEND = 'a', BUILD = 'b', GLOBAL = 'c', DICT = 'd', EMPTY_DICT = '}',
  APPENDS = 'e', BINGET = 'h', LONG_BINGET = 'j', LIST = 'l', EMPTY_LIST = ']', BINPUT = 'q',
  LONG_BINPUT = 'r', SETITEM = 's', TUPLE = 't', EMPTY_TUPLE = ')', SETITEMS = 'u', BINFLOAT = 'G',
  PROTO = 0x80, NEWOBJ = 0x81, TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88,
  NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b, BINBYTES = 'B', SHORT_BINBYTES = 'C',
  SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e, EMPTY_SET = 0x8f, ADDITEMS = 0x90,
  FROZENSET = 0x91, NEWOBJ_EX = 0x92, STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95,
};
}  // namespace

PickleValuePtr Unpickler::run() {
  using K = PickleValue::Kind;
  none_ = make(K::kNone);
  if (data_.empty()) fail("empty pickle");
  while (true) {
    op_pos_ = pos_;
    const uint8_t op = u8();
    switch (op) {
      case PROTO: {
        const uint8_t proto = u8();
        if (proto < 2 || proto > 5) fail("unsupported pickle protocol " + std::to_string(proto));
        break;
      }
      case FRAME: take(8); break;  // a length prefix for buffering; no meaning here
      case STOP: {
        Ptr result = pop();
        if (!stack_.empty() || !marks_.empty()) fail("values left on the stack at STOP");
        return result;
      }
      case MARK:
        if (marks_.size() >= kMaxPickleDepth) fail("MARKs nest deeper than " + std::to_string(kMaxPickleDepth));
        marks_.push_back(std::move(stack_));
        stack_.clear();
        break;
      case POP:
        if (stack_.empty()) {
          pop_mark();  // CPython: POP with an empty stack after a MARK pops the mark
        } else {
          pop();
        }
        break;
      case POP_MARK: pop_mark(); break;
      case DUP: push(top()); break;

      // Scalars.
      case NONE: push(none_); break;
      case NEWTRUE:
      case NEWFALSE: {
        Ptr b = make(K::kBool);
        b->int_ = op == NEWTRUE;
        push(b);
        break;
      }
      case BININT: push(make_int(static_cast<int32_t>(little<uint32_t>()))); break;
      case BININT1: push(make_int(u8())); break;
      case BININT2: push(make_int(little<uint16_t>())); break;
      case LONG1:
      case LONG4: {
        uint64_t n = op == LONG1 ? u8() : little<uint32_t>();
        if (n > 0x7fffffff) fail("negative LONG4 length");
        const char* p = take(n);
        // Two's complement, little endian; it must fit in int64 (sign extension bytes allowed).
        uint64_t v = 0;
        for (uint64_t i = 0; i < std::min<uint64_t>(n, 8); ++i) {
          v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
        }
        const bool negative = n > 0 && (static_cast<uint8_t>(p[n - 1]) & 0x80);
        if (n < 8 && n > 0 && negative) v |= ~uint64_t{0} << (8 * n);
        if (n > 8) {
          for (uint64_t i = 8; i < n; ++i) {
            if (static_cast<uint8_t>(p[i]) != (negative ? 0xff : 0x00)) fail("integer does not fit in 64 bits");
          }
          if (((v >> 63) != 0) != negative) fail("integer does not fit in 64 bits");
        }
        push(make_int(static_cast<int64_t>(v)));
        break;
      }
      case BINFLOAT: {
        const char* p = take(8);
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<uint8_t>(p[i]);  // big endian
        Ptr f = make(K::kFloat);
        f->float_ = std::bit_cast<double>(bits);
        push(f);
        break;
      }
      case SHORT_BINUNICODE: { uint64_t n = u8(); push(make_str(K::kStr, {take(n), n})); break; }
      case BINUNICODE: { uint64_t n = little<uint32_t>(); push(make_str(K::kStr, {take(n), n})); break; }
      case BINUNICODE8: { uint64_t n = little<uint64_t>(); push(make_str(K::kStr, {take(n), n})); break; }
      // Python 2 str: torch.load decodes it as UTF-8 text.
      case SHORT_BINSTRING: { uint64_t n = u8(); push(make_str(K::kStr, {take(n), n})); break; }
      case BINSTRING: {
        int32_t n = static_cast<int32_t>(little<uint32_t>());
        if (n < 0) fail("negative BINSTRING length");
        push(make_str(K::kStr, {take(static_cast<size_t>(n)), static_cast<size_t>(n)}));
        break;
      }
      case SHORT_BINBYTES: { uint64_t n = u8(); push(make_str(K::kBytes, {take(n), n})); break; }
      case BINBYTES: { uint64_t n = little<uint32_t>(); push(make_str(K::kBytes, {take(n), n})); break; }
      case BINBYTES8: { uint64_t n = little<uint64_t>(); push(make_str(K::kBytes, {take(n), n})); break; }

      // Containers.
      case EMPTY_TUPLE: push(make_tuple({})); break;
      case TUPLE1:
      case TUPLE2:
      case TUPLE3: {
        const size_t n = op - TUPLE1 + 1;
        if (stack_.size() < n) fail("stack underflow");
        std::vector<Ptr> items(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
        stack_.resize(stack_.size() - n);
        push(make_tuple(std::move(items)));
        break;
      }
      case TUPLE: push(make_tuple(pop_mark())); break;
      case EMPTY_LIST: push(make(K::kList)); break;
      case LIST: {
        std::vector<Ptr> items = pop_mark();
        Ptr l = make(K::kList);
        for (const Ptr& item : items) adopt(*l, item);
        l->items_ = std::move(items);
        push(l);
        break;
      }
      case EMPTY_DICT: push(make(K::kDict)); break;
      case DICT: {
        std::vector<Ptr> items = pop_mark();
        if (items.size() % 2) fail("DICT with an odd number of items");
        Ptr d = make(K::kDict);
        for (size_t i = 0; i < items.size(); i += 2) dict_set(*d, items[i], items[i + 1]);
        push(d);
        break;
      }
      case EMPTY_SET: push(make(K::kSet)); break;
      case FROZENSET: {
        std::vector<Ptr> items = pop_mark();
        Ptr s = make(K::kSet);
        for (const Ptr& item : items) adopt(*s, item);
        s->items_ = std::move(items);
        s->frozen_ = true;
        push(s);
        break;
      }
      case APPEND:
      case APPENDS:
      case ADDITEMS: {
        std::vector<Ptr> items;
        if (op == APPEND) {
          items.push_back(pop());
        } else {
          items = pop_mark();
        }
        PickleValue& target = *top();
        const K want = op == ADDITEMS ? K::kSet : K::kList;
        if (target.kind_ != want) fail(std::string(op == ADDITEMS ? "ADDITEMS" : "APPEND") + " to a " + target.type_name());
        check_mutable(target, "APPEND");
        for (const Ptr& item : items) {
          adopt(target, item);
          target.items_.push_back(item);
        }
        break;
      }
      case SETITEM:
      case SETITEMS: {
        std::vector<Ptr> items;
        if (op == SETITEM) {
          Ptr value = pop();
          Ptr key = pop();
          items = {key, value};
        } else {
          items = pop_mark();
          if (items.size() % 2) fail("SETITEMS with an odd number of items");
        }
        PickleValue& target = *top();
        if (target.kind_ != K::kDict) fail("SETITEM on a " + target.type_name());
        check_mutable(target, "SETITEM");
        for (size_t i = 0; i < items.size(); i += 2) dict_set(target, items[i], items[i + 1]);
        break;
      }

      // Memo.
      case BINPUT: memo_[u8()] = top(); break;
      case LONG_BINPUT: memo_[little<uint32_t>()] = top(); break;
      case MEMOIZE: memo_[memo_.size()] = top(); break;
      case BINGET:
      case LONG_BINGET: {
        const uint64_t i = op == BINGET ? u8() : little<uint32_t>();
        auto it = memo_.find(i);
        if (it == memo_.end()) fail("memo entry " + std::to_string(i) + " was never stored");
        push(it->second);
        break;
      }

      // Globals and objects.
      case GLOBAL: {
        std::string module(line());
        std::string name(line());
        op_global(std::move(module), std::move(name));
        break;
      }
      case STACK_GLOBAL: {
        Ptr name = pop();
        Ptr module = pop();
        if (!module->is(K::kStr) || !name->is(K::kStr)) fail("STACK_GLOBAL needs two strings");
        op_global(module->str_, name->str_);
        break;
      }
      case REDUCE: op_reduce(); break;
      case NEWOBJ: op_newobj(false); break;
      case NEWOBJ_EX: op_newobj(true); break;
      case BUILD: op_build(); break;
      case BINPERSID: op_persistent_id(); break;

      default: {
        std::ostringstream os;
        os << "unsupported opcode 0x" << std::hex << static_cast<int>(op);
        if (op >= 0x20 && op < 0x7f) os << " ('" << static_cast<char>(op) << "')";
        fail(os.str());
      }
    }
  }
}

}  // namespace ptx
