#pragma once
// Renderings of an Analysis: the human report and the JSON object of `lorasplit solve`.

#include <lorasplit/analysis.hpp>

#include <string>

namespace lorasplit {

/// The text report (parameter table, split, stage times and slack, memory rows,
/// throughput, GPU-only baseline and gain, binding rows, explanation).
std::string render_text(const Analysis& analysis);

/// One JSON object (fields listed in README.md and docs/model.md §6), pretty-printed
/// with `indent` spaces, or compact when indent < 0.
std::string render_json(const Analysis& analysis, int indent = 2);

/// {"status":"error","error":{"code":..., "key":..., "value":..., "message":...}}
std::string render_error_json(const Error& error);

}  // namespace lorasplit
