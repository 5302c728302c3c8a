// GMP's allocation functions, throwing std::bad_alloc on failure (GMP's own abort the
// process). GMP is built with unwind tables on the platforms we support, so the exception
// reaches the caller; memory GMP held for the failed operation may leak, which is
// acceptable on the way to an "out of memory" error.
#include <lorasplit/rational.hpp>

#include <cstdlib>
#include <new>

namespace lorasplit {
namespace {

void* allocate(std::size_t size) {
  void* p = std::malloc(size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void* reallocate(void* old, std::size_t /*old_size*/, std::size_t size) {
  void* p = std::realloc(old, size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void release(void* p, std::size_t /*size*/) { std::free(p); }

}  // namespace

void gmp_throw_on_out_of_memory() { mp_set_memory_functions(&allocate, &reallocate, &release); }

}  // namespace lorasplit
