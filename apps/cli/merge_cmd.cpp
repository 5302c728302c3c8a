// lorasplit merge: the parts of a sharded sweep (sweep --shard i/n --part FILE), checked
// and joined into the output of the unsharded sweep.
#include <lorasplit/files.hpp>
#include <lorasplit/sweep.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common.hpp"
#include "subcommands.hpp"

namespace lorasplit::cli {
namespace {

struct MergeOpts {
  std::vector<std::string> parts;
  std::string output;
};

int run_merge(const MergeOpts& opts, const Io& io) {
  std::string whole;  // -o: written whole at the end
  const bool to_file = !opts.output.empty();
  const Status st = merge_sweep_parts(opts.parts, [&](std::string_view text) {
    if (to_file) {
      whole.append(text);
      return true;
    }
    return std::fwrite(text.data(), 1, text.size(), io.out) == text.size();
  });
  if (!st) return report_error(io, st.error(), false);
  if (to_file) {
    if (auto w = write_file(opts.output, whole, "--output"); !w) return report_error(io, w.error(), false);
  } else if (std::fflush(io.out) != 0) {
    return report_error(io, Error{ErrorCode::kWriteFailed, "stdout", "", "standard output: write failed"}, false);
  }
  return kExitOptimal;
}

}  // namespace

void setup_merge(CLI::App& app, int& exit_status, const Io& io) {
  auto opts = std::make_shared<MergeOpts>();
  CLI::App* sub = app.add_subcommand(
      "merge", "check the parts of a sharded sweep (sweep --shard i/n --part FILE) and join them into the sweep's output");
  sub->add_option("parts", opts->parts, "the part files, in any order: every shard once, all from one sweep")
      ->required();
  sub->add_option("-o,--output", opts->output, "file to write, whole or not at all (default: standard output)");
  sub->callback([opts, &exit_status, io]() { exit_status = run_merge(*opts, io); });
}

}  // namespace lorasplit::cli
