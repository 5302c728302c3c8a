#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "common.hpp"
#include "subcommands.hpp"

namespace lorasplit::cli {
namespace {

struct HardwareOpts {
  std::string format{"text"};
  std::string kind;  ///< empty: every kind
};

int run_hardware(const HardwareOpts& opts, const Io& io) {
  const bool json = opts.format == "json";
  // The library is checked when it is first read: a malformed one is a build defect.
  if (auto probe = find_hardware("gpu", ""); !probe && probe.error().code == ErrorCode::kInternal) {
    return report_error(io, probe.error(), json);
  }
  std::string out;
  if (json) out = render_hardware_json(opts.kind) + "\n";
  std::string_view last_kind;
  for (const auto& part : hardware_library()) {
    if (json) break;
    if (!opts.kind.empty() && part.kind != opts.kind) continue;
    if (part.kind != last_kind) {
      out += fmt::format("{}{}\n", last_kind.empty() ? "" : "\n",
                         part.kind == "gpu" ? "GPUs (--gpu NAME)"
                         : part.kind == "cxl" ? "CXL memory devices (--cxl NAME)"
                                              : "Links (--link NAME)");
      last_kind = part.kind;
    }
    out += fmt::format("  {}\n    {}\n", part.name, part.description);
    for (const auto& v : part.values) {
      out += fmt::format("    {:<34} {:<14} {:<9} {}\n", v.key, printable(v.value), to_string(v.evidence),
                         printable(v.note));
    }
  }
  if (std::fputs(out.c_str(), io.out) < 0) {
    return report_error(io, Error{ErrorCode::kWriteFailed, "stdout", "", "standard output: write failed"}, json);
  }
  return kExitOptimal;
}

}  // namespace

void setup_hardware(CLI::App& app, int& exit_status, const Io& io) {
  auto opts = std::make_shared<HardwareOpts>();
  CLI::App* sub = app.add_subcommand(
      "hardware", "list the hardware library: GPUs, CXL devices and links, each number with what it rests on");
  sub->add_option("--format", opts->format, "output: text (default) or json")->check(CLI::IsMember({"text", "json"}));
  sub->add_option("--kind", opts->kind, "only this kind: gpu, cxl or link")
      ->check(CLI::IsMember({"gpu", "cxl", "link"}));
  sub->callback([opts, &exit_status, io]() { exit_status = run_hardware(*opts, io); });
}

}  // namespace lorasplit::cli
