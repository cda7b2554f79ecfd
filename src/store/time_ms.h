// Both backends store timestamps as integer milliseconds since the Unix
// epoch (plain, portable, and sortable); these convert to and from TimePoint.
#pragma once

#include <cstdint>

#include "store/history_store.h"

namespace scribepod::store {

int64_t to_epoch_ms(TimePoint t);
TimePoint from_epoch_ms(int64_t ms);

}  // namespace scribepod::store
