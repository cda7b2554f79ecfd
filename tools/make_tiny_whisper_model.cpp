// make_tiny_whisper_model: writes a whisper.cpp model file with random weights.
//
// The files have the real format and tensor layout (tiny_whisper_model.h) and
// random weights, which makes them good for two things: tests that exercise
// whisper.cpp's real load and inference path without downloading a model,
// and compute benchmarks, since the cost of a forward pass depends on the
// shapes, not on the values.
//
//   make_tiny_whisper_model --shape micro --out /tmp/ggml-micro.en.bin
//   make_tiny_whisper_model --shape base --multilingual --ftype f16 --out /tmp/base.bin
//
// Shapes: tiny and base have the real hyper-parameters of tiny(.en) and
// base(.en). micro keeps whisper's fixed sizes (80 mels, a 1500-frame encoder
// window for 30 s, a 448-token text context, the real vocabulary size, so the
// special tokens resolve) but has a 64-wide state, 2 encoder layers and 3
// decoder layers: 8.5 MB in f16, and it decodes in milliseconds. Not 2 decoder
// layers: whisper.cpp treats n_text_layer == 2 as a first-release distilled
// model and forces no_timestamps, which would hide the timestamp path.
//
// --say "Thank you." makes every window decode to those words instead of
// " tok1001 tok1004 ...", e.g. to test what happens to a known silence
// hallucination. Exit status: 0 written, 1 the file could not be written,
// 2 bad usage.
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tiny_whisper_model.h"

namespace {

int usage(const char* argv0, const std::string& problem) {
  if (!problem.empty()) {
    std::cerr << argv0 << ": " << problem << "\n";
  }
  std::cerr << "usage: " << argv0
            << " --out PATH [--shape micro|tiny|base] [--multilingual] [--ftype f16|f32]"
               " [--seed N] [--say \"WORDS\"]\n"
               "Writes a whisper.cpp ggml model with random weights (for tests and benchmarks).\n"
               "--say: the words every window decodes to (default \" tok1001 tok1004 ...\").\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string shape_name = "micro";
  std::string out_path;
  std::string ftype = "f16";
  bool multilingual = false;
  std::uint64_t seed = 42;
  std::vector<std::string> say;

  const std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) {
        return std::nullopt;
      }
      return args[++i];
    };
    if (arg == "--multilingual") {
      multilingual = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      return usage(argv[0], "");
    }
    if (arg != "--shape" && arg != "--out" && arg != "--ftype" && arg != "--seed" &&
        arg != "--say") {
      return usage(argv[0], "unknown argument '" + arg + "'");
    }
    const std::optional<std::string> v = value();
    if (!v) {
      return usage(argv[0], arg + " needs a value");
    }
    if (arg == "--shape") {
      shape_name = *v;
    } else if (arg == "--out") {
      out_path = *v;
    } else if (arg == "--ftype") {
      ftype = *v;
    } else if (arg == "--say") {
      std::istringstream words(*v);
      say.clear();
      for (std::string word; words >> word;) {
        say.push_back(word);
      }
      if (say.empty() || say.size() > 16) {
        return usage(argv[0], "--say wants 1 to 16 words");
      }
    } else {
      try {
        std::size_t used = 0;
        seed = std::stoull(*v, &used);
        if (used != v->size()) {
          return usage(argv[0], "--seed wants a non-negative integer");
        }
      } catch (const std::exception&) {
        return usage(argv[0], "--seed wants a non-negative integer");
      }
    }
  }
  if (out_path.empty()) {
    return usage(argv[0], "--out is required");
  }
  std::optional<tiny_whisper::Shape> shape = tiny_whisper::shape_named(shape_name);
  if (!shape) {
    return usage(argv[0], "unknown shape '" + shape_name + "' (micro, tiny or base)");
  }
  if (ftype != "f16" && ftype != "f32") {
    return usage(argv[0], "unknown ftype '" + ftype + "' (f16 or f32)");
  }
  if (multilingual) {
    shape->n_vocab = 51865;
  }

  // Write next to the target and rename, so a reader never sees half a model.
  const std::filesystem::path final_path(out_path);
  std::filesystem::path tmp_path = final_path;
  tmp_path += ".partial";
  {
    std::ofstream out(tmp_path, std::ios::binary | std::ios::trunc);
    if (!out) {
      std::cerr << argv[0] << ": cannot write " << tmp_path << ": " << std::strerror(errno) << "\n";
      return 1;
    }
    tiny_whisper::write_model(out, *shape, ftype == "f16", seed, say);
    out.flush();
    if (!out) {
      std::cerr << argv[0] << ": writing " << tmp_path << " failed: " << std::strerror(errno)
                << "\n";
      std::filesystem::remove(tmp_path);
      return 1;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp_path, final_path, ec);
  if (ec) {
    std::cerr << argv[0] << ": cannot rename " << tmp_path << " to " << final_path << ": "
              << ec.message() << "\n";
    std::filesystem::remove(tmp_path);
    return 1;
  }
  std::cout << "wrote " << final_path.string() << ": shape " << shape->name << ", "
            << (multilingual ? "multilingual" : "English-only") << ", " << ftype << ", seed "
            << seed << ", " << std::filesystem::file_size(final_path) << " bytes\n";
  return 0;
}
