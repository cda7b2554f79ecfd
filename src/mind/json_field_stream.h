// JsonFieldStream: pulls the value of one string field out of a JSON object
// while the JSON is still being generated, so the live page can show the
// agent's `response` word by word instead of after the whole object.
//
// Feed it the model's output in pieces of any size, split anywhere (inside a
// key, an escape, a \uXXXX sequence or a multi-byte character); each feed()
// returns the newly decoded characters of the field's value. Only a key of
// the top-level object counts, in any position; a same-named key in a
// nested object or inside another string does not. JSON escapes are decoded
// (surrogate pairs joined), and the returned text is always valid UTF-8: an
// incomplete character is held back until its last byte arrives, and bytes
// that can never form one become U+FFFD. The concatenation of everything
// returned is the same however the input was split.
//
// It is a scanner, not a validator: the text it returns is provisional (the
// whole object is validated afterwards by parse_thoughts). It accepts any
// bytes, keeps O(1) state, and emits the first occurrence of the field only.
// Not thread-safe; one per generation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace scribepod::mind {

class JsonFieldStream {
 public:
  explicit JsonFieldStream(std::string field);

  // The newly decoded characters of the field's value in `piece` (often "").
  std::string feed(std::string_view piece);
  // Flushes what is held back at the end of the input (an incomplete
  // character becomes U+FFFD).
  std::string finish();

  bool found() const { return found_; }        // the value's opening quote was seen
  bool complete() const { return complete_; }  // ... and its closing quote

 private:
  enum class Role : std::uint8_t { kNone, kKey, kTarget, kOther };

  void on_structural(char c);
  void on_string_byte(char c);
  void end_string();
  void emit_decoded(std::string_view bytes);
  void emit_code_point(std::uint32_t cp);
  void finish_unicode_escape();
  void abandon_unicode_escape();
  void flush_lone_high_surrogate();
  std::string drain(bool at_end);

  std::string field_;
  // Structure outside strings.
  std::size_t depth_ = 0;
  bool root_is_object_ = false;
  bool expect_key_ = false;
  bool expect_colon_ = false;
  bool key_matches_ = false;
  bool target_next_ = false;  // the next value at depth 1 is the field's
  // Inside a string.
  bool in_string_ = false;
  Role role_ = Role::kNone;
  bool escape_ = false;  // just saw a backslash
  int hex_digits_ = -1;  // >= 0 while reading \uXXXX
  std::uint32_t hex_value_ = 0;
  std::uint32_t high_surrogate_ = 0;  // waiting for its low half
  std::string key_;                   // decoded key, capped at field_.size() + 1
  // Output.
  bool found_ = false;
  bool complete_ = false;
  std::string pending_;  // decoded bytes not yet returned (<= 3 after a drain)
};

}  // namespace scribepod::mind
