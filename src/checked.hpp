#pragma once
// Overflow-checked arithmetic on machine integers for every size and count computed from
// user input (plan totals, task counts, sweep sizes): nullopt instead of a wrapped value.
#include <cstdint>
#include <limits>
#include <optional>

namespace lorasplit::detail {

template <class T>
std::optional<T> checked_add(T a, T b) {
  T out{};
  if (__builtin_add_overflow(a, b, &out)) return std::nullopt;
  return out;
}

template <class T>
std::optional<T> checked_mul(T a, T b) {
  T out{};
  if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}

/// a + b, or the largest T when the sum does not fit (for counts compared with a limit).
template <class T>
T saturating_add(T a, T b) {
  const auto s = checked_add(a, b);
  return s ? *s : std::numeric_limits<T>::max();
}

}  // namespace lorasplit::detail
