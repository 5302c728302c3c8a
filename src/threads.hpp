#pragma once
// Running a job's work on several threads: how many a caller's option asks for, and the
// start of the workers that tolerates a machine refusing some.
#include <algorithm>
#include <system_error>
#include <thread>
#include <vector>

namespace lorasplit::detail {

/// The threads an option asks for: `asked`, or one per core when it is 0 (at least 1).
inline unsigned threads_for(unsigned asked) {
  return asked != 0 ? asked : std::max(1U, std::thread::hardware_concurrency());
}

/// Runs `work` on this thread and on up to `threads - 1` more at once, and returns when all
/// of them have returned. A thread that cannot be started leaves its share to the others:
/// `work` takes its items from a shared counter or queue until none is left.
template <class Work>
void run_on_threads(unsigned threads, const Work& work) {
  std::vector<std::jthread> workers;
  try {
    for (unsigned t = 1; t < threads; ++t) workers.emplace_back(work);
  } catch (const std::system_error&) {  // fewer threads than asked: the ones started do the work
  }
  work();
}  // (the workers join here)

}  // namespace lorasplit::detail
