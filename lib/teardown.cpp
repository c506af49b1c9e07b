// lib/teardown.cpp: see lib/teardown.h.
#include "lib/teardown.h"

#include <mutex>
#include <vector>

namespace ptx {
namespace {

struct Kept {
  std::mutex mu;
  bool on = false;
  std::vector<std::shared_ptr<const void>>* objects = nullptr;  // never freed: the process exits with _Exit
};

Kept& kept() {
  static Kept* k = new Kept;  // not destroyed at exit either (no order-of-destruction questions)
  return *k;
}

}  // namespace

void keep_objects_until_exit() {
  Kept& k = kept();
  std::lock_guard<std::mutex> lock(k.mu);
  k.on = true;
  if (k.objects == nullptr) k.objects = new std::vector<std::shared_ptr<const void>>;
}

void keep_until_exit(std::shared_ptr<const void> object) {
  Kept& k = kept();
  {
    std::lock_guard<std::mutex> lock(k.mu);
    if (k.on) {
      k.objects->push_back(std::move(object));
      return;
    }
  }
  object.reset();  // released here, outside the lock
}

}  // namespace ptx
