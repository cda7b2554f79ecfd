// The TOML layer of the configuration: one document applied setting by
// setting.
//
// Sections are the part of a key before the dot ([server] port = 1 is
// "server.port"); dotted keys and inline tables work too. A key that is not in
// the key table is an error naming it and its file:line:column, with a
// suggestion when a known key is close. Values must have the key's TOML type;
// durations and sizes may also be strings ("10s", "10MiB") and numbers may be
// integers. The text goes through toml_guard.h before toml++ sees it.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "config/keys.h"
#include "core/result.h"

namespace scribepod::config {

// Receives each setting of the document, with "config file FILE:LINE:COL" as
// its source.
using SettingSink = std::function<void(const KeySpec&, const Value&, std::string source)>;

// Parses `text` (named `file` in messages) and passes every setting to
// `sink`, section by section in name order (toml++ tables are sorted maps);
// stops at the first error (kInvalidConfig).
Status apply_toml_text(std::string_view text, std::string_view file, const SettingSink& sink);

}  // namespace scribepod::config
