// GMP's allocation functions, throwing std::bad_alloc on failure (GMP's own abort the
// process). GMP is built with unwind tables on the platforms we support, so the exception
// reaches the caller; memory GMP held for the failed operation may leak, which is
// acceptable on the way to an "out of memory" error.
//
// Small blocks (up to kSmallLimbs limbs, what the planners' integers and fractions mostly
// need) are kept on per-thread free lists when released and handed out again, instead of
// going back to malloc: the exact searches create and drop millions of them.
#include <lorasplit/rational.hpp>

#include <array>
#include <cstdlib>
#include <cstring>
#include <new>

namespace lorasplit {
namespace {

constexpr std::size_t kLimb = sizeof(mp_limb_t);
constexpr std::size_t kSmallLimbs = 8;
constexpr std::size_t kListCap = 4096;  // blocks kept per size, per thread

// A block's size class: its limbs (1..kSmallLimbs), 0 for a large block.
std::size_t size_class(std::size_t bytes) {
  const std::size_t limbs = (bytes + kLimb - 1) / kLimb;
  return limbs >= 1 && limbs <= kSmallLimbs ? limbs : 0;
}

struct FreeLists {
  struct Node {
    Node* next;
  };
  std::array<Node*, kSmallLimbs + 1> head{};
  std::array<std::size_t, kSmallLimbs + 1> count{};
  FreeLists() = default;
  FreeLists(const FreeLists&) = delete;
  FreeLists& operator=(const FreeLists&) = delete;
  ~FreeLists() {
    for (Node* n : head) {
      while (n != nullptr) {
        Node* next = n->next;
        std::free(n);
        n = next;
      }
    }
  }
};
thread_local FreeLists lists;

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
