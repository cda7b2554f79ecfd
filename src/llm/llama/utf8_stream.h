// Utf8Stream: turns token pieces (arbitrary byte strings: a byte-fallback
// token can carry half of a multi-byte character) into text pieces that are
// always whole, valid UTF-8 characters, so a streaming consumer never sees a
// broken character and the final text is always valid JSON-able UTF-8.
//
// Bytes of an unfinished character wait for the next piece. An invalid
// sequence (a stray continuation byte, an overlong form, a surrogate, a lead
// byte F5..FF, a sequence cut short) becomes one U+FFFD per sequence as
// llama.cpp's grammar counts them (it reads F8..FF as 4-byte leads), so a
// string's character count, and thus a schema's maxLength, is preserved.
// finish() turns an unfinished tail into U+FFFD.
#pragma once

#include <string>
#include <string_view>

namespace scribepod::llm {

class Utf8Stream {
 public:
  // Appends `bytes` and returns every complete character pending (possibly
  // an empty string).
  std::string push(std::string_view bytes);
  // Returns what is left (U+FFFD for an unfinished character) and clears it.
  std::string finish();

 private:
  std::string pending_;
};

}  // namespace scribepod::llm
