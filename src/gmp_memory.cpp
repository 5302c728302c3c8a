// GMP's allocation functions, throwing std::bad_alloc on failure (GMP's own abort the
// process). GMP is built with unwind tables on the platforms we support, so the exception
// reaches the caller; memory GMP held for the failed operation may leak, which is
// acceptable on the way to an "out of memory" error.
//
// Small blocks (up to kSmallLimbs limbs, what the planners' integers and fractions mostly
// need) are kept on per-thread free lists when released and handed out again, instead of
// going back to malloc: the exact searches create and drop millions of them. (Not under
// AddressSanitizer, which must see every block's own allocation and release.)
#include <lorasplit/rational.hpp>

#include <array>
#include <cstdlib>
#include <cstring>
#include <new>

namespace lorasplit {
namespace {

#if defined(__SANITIZE_ADDRESS__)
#define LORASPLIT_GMP_POOL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LORASPLIT_GMP_POOL 0
#endif
#endif
#ifndef LORASPLIT_GMP_POOL
#define LORASPLIT_GMP_POOL 1
#endif

constexpr std::size_t kLimb = sizeof(mp_limb_t);
constexpr std::size_t kSmallLimbs = LORASPLIT_GMP_POOL != 0 ? 8 : 0;
constexpr std::size_t kListCap = 4096;  // blocks kept per size, per thread

// A block's size class: its limbs (1..kSmallLimbs), 0 for a large block.
std::size_t size_class(std::size_t bytes) {
  const std::size_t limbs = (bytes + kLimb - 1) / kLimb;
  return limbs >= 1 && limbs <= kSmallLimbs ? limbs : 0;
}

// The lists are trivially destructible, so they stay usable until the thread's storage
// goes; `drain`, set up with a thread's first kept block, frees the blocks kept when the
// thread ends and leaves the lists empty and full, so that integers destroyed later (the
// main thread's static ones) release their blocks to free().
struct FreeLists {
  struct Node {
    Node* next;
  };
  std::array<Node*, kSmallLimbs + 1> head;
  std::array<std::size_t, kSmallLimbs + 1> count;
};
thread_local FreeLists lists{};
struct Drain {
  bool armed{false};
  Drain() = default;
  Drain(const Drain&) = delete;
  Drain& operator=(const Drain&) = delete;
  ~Drain() {
    for (std::size_t c = 0; c < lists.head.size(); ++c) {
      FreeLists::Node* n = lists.head[c];
      while (n != nullptr) {
        FreeLists::Node* next = n->next;
        std::free(n);
        n = next;
      }
      lists.head[c] = nullptr;
      lists.count[c] = kListCap;
    }
  }
};
thread_local Drain drain;

void* allocate(std::size_t size) {
  const std::size_t c = size_class(size);
  if (c != 0 && lists.head[c] != nullptr) {
    FreeLists::Node* n = lists.head[c];
    lists.head[c] = n->next;
    --lists.count[c];
    return n;
  }
  void* p = std::malloc(c != 0 ? c * kLimb : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void release(void* p, std::size_t size) {
  const std::size_t c = size_class(size);
  if (c != 0 && lists.count[c] < kListCap) {
    if (lists.count[c] == 0) drain.armed = true;  // (set up: its destructor runs at the thread's end)
    auto* n = static_cast<FreeLists::Node*>(p);
    n->next = lists.head[c];
    lists.head[c] = n;
    ++lists.count[c];
    return;
  }
  std::free(p);
}

void* reallocate(void* old, std::size_t old_size, std::size_t size) {
  const std::size_t oc = size_class(old_size), nc = size_class(size);
  if (oc == 0 && nc == 0) {
    void* p = std::realloc(old, size);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  if (oc != 0 && oc == nc) return old;  // the block already holds the new size
  void* p = allocate(size);
  std::memcpy(p, old, old_size < size ? old_size : size);
  release(old, old_size);
  return p;
}

}  // namespace

void gmp_throw_on_out_of_memory() { mp_set_memory_functions(&allocate, &reallocate, &release); }

}  // namespace lorasplit
