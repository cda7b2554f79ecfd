// make_tiny_gguf: writes a GGUF model with random weights for llama.cpp.
//
// Tests of the llama engine generate their models with this tool at run time
// (no weights are ever committed); benchmarks use it to get a model whose
// shapes are real and whose values don't matter.
//
//   make_tiny_gguf --arch llama --out /tmp/tiny-llama.gguf
//   make_tiny_gguf --arch t5 --out /tmp/tiny-t5.gguf --seed 7
//
// Exit status: 0 written, 1 the file could not be written, 2 bad usage.
#include <cstdint>
#include <exception>
#include <iostream>
#include <string>

#include "make_tiny_gguf_model.h"

namespace {

int usage(const char* argv0, const std::string& problem) {
  if (!problem.empty()) {
    std::cerr << argv0 << ": " << problem << "\n";
  }
  std::cerr << "usage: " << argv0
            << " --out PATH [--arch llama|t5] [--seed N] [--embd N] [--layers N] [--heads N]\n"
               "       [--head-kv N] [--ff N] [--ctx N]\n"
               "Writes a GGUF model with random weights (for tests and benchmarks).\n"
               "Defaults: 64 wide, 2 layers, 4 heads, feed-forward 128, 2048-token context;\n"
               "--head-kv (llama only) gives grouped-query attention and divides --heads.\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  scribepod::tools::TinyGgufOptions options;
  std::string out;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) {
          throw std::invalid_argument(arg + " needs a value");
        }
        return argv[++i];
      };
      if (arg == "--out") {
        out = value();
      } else if (arg == "--arch") {
        const std::string a = value();
        if (a == "llama") {
          options.arch = scribepod::tools::TinyGgufArch::kLlama;
        } else if (a == "t5") {
          options.arch = scribepod::tools::TinyGgufArch::kT5;
        } else {
          return usage(argv[0], "unknown --arch " + a);
        }
      } else if (arg == "--seed") {
        options.seed = std::stoull(value());
      } else if (arg == "--embd") {
        options.n_embd = std::stoi(value());
      } else if (arg == "--layers") {
        options.n_layer = std::stoi(value());
      } else if (arg == "--heads") {
        options.n_head = std::stoi(value());
      } else if (arg == "--head-kv") {
        options.n_head_kv = std::stoi(value());
      } else if (arg == "--ff") {
        options.n_ff = std::stoi(value());
      } else if (arg == "--ctx") {
        options.n_ctx_train = std::stoi(value());
      } else if (arg == "--help" || arg == "-h") {
        return usage(argv[0], "");
      } else {
        return usage(argv[0], "unknown argument " + arg);
      }
    }
  } catch (const std::exception& e) {
    return usage(argv[0], e.what());
  }
  if (out.empty()) {
    return usage(argv[0], "--out is required");
  }
  const std::string problem = scribepod::tools::write_tiny_gguf(options, out);
  if (!problem.empty()) {
    std::cerr << argv[0] << ": " << problem << "\n";
    return 1;
  }
  return 0;
}
