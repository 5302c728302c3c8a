#pragma once
// The predicates validate() is made of, without messages: a caller that changes a few
// parameters of a validated set (a sweep point) re-checks only those and the relations,
// and calls validate() for the message when a check fails.
#include <lorasplit/params.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace lorasplit::detail {

/// The value of `id` is set (or the parameter is optional) and within its spec's range.
bool value_ok(const Params& params, ParamId id);
/// " (did you mean 'KEY'?)" for the parameter key nearest to `key` by edit distance, when
/// one is near enough to be a slip (a letter or two; a misspelt table); else "".
std::string did_you_mean(std::string_view key);

/// Whether 0 is a value of `id` outside its range that means "none": cxl.flops = 0 is a
/// device without compute (a memory expander), which only the serving model plans.
constexpr bool zero_means_none(ParamId id) { return id == ParamId::kCxlFlops; }
/// The device's kernel rates: neither read nor needed when it has no compute (cxl.flops = 0).
/// (Its memory bandwidth is read for every device: each transfer reads or writes the
/// device's memory, docs/model.md section 9.3.)
constexpr bool device_kernel_rate(ParamId id) {
  return id == ParamId::kCxlEfficiency || id == ParamId::kCxlKernelOverheadS;
}

/// `v` lies within the range of `spec` (and is whole where it must be).
bool value_in_range(const ParamSpec& spec, const Rational& v);

/// The checks between parameters: no pipeline switch set under the seed model, r <= d,
/// one block fits the GPU memory and the batch bound, a device that computes.
bool relations_ok(const Params& params);
/// Whether relations_ok reads parameter `id` (when none of a sweep's axes is one of these,
/// relations_ok is the same at every point).
bool relations_read(ParamId id);

/// The text of a small regular file, every read checked (a FIFO, a folder, a read error or
/// more than `max_bytes` is an error naming `argument` and the path).
Result<std::string> read_text_file(const std::string& path, std::string_view argument, std::size_t max_bytes);

/// The items of a `sep`-separated list as written on a command line ("q, v" from --set or
/// --vary), blanks and tabs around each removed; an empty item stays (the caller refuses it).
std::vector<std::string> split_items(std::string_view text, char sep);

}  // namespace lorasplit::detail
