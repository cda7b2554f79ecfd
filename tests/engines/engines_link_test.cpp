// Links whisper.cpp and llama.cpp into one binary and checks that they share
// exactly one ggml: one version, one backend registry, one logger.
#include <ggml-backend.h>
#include <ggml-cpu.h>
#include <ggml.h>
#include <gtest/gtest.h>
#include <link.h>
#include <llama.h>
#include <whisper.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#ifndef SCRIBEPOD_GGML_VERSION
#error "SCRIBEPOD_GGML_VERSION must be defined by tests/engines/CMakeLists.txt"
#endif
#ifndef SCRIBEPOD_WHISPER_VERSION
#error "SCRIBEPOD_WHISPER_VERSION must be defined by tests/engines/CMakeLists.txt"
#endif

namespace {

struct LogSink {
  int calls = 0;
  std::string text;
};

void record_log(ggml_log_level /*level*/, const char* text, void* user_data) {
  auto* sink = static_cast<LogSink*>(user_data);
  ++sink->calls;
  if (text != nullptr) {
    sink->text += text;
  }
}

// Restores ggml's (and both engines') default logger when a test ends.
struct LoggerReset {
  LoggerReset() = default;
  LoggerReset(const LoggerReset&) = delete;
  LoggerReset& operator=(const LoggerReset&) = delete;
  LoggerReset(LoggerReset&&) = delete;
  LoggerReset& operator=(LoggerReset&&) = delete;
  ~LoggerReset() {
    whisper_log_set(nullptr, nullptr);
    llama_log_set(nullptr, nullptr);
  }
};

// The "<backend> : FEATURE = v | ..." part both engines build from ggml's
// backend registry.
std::string ggml_features_from_registry() {
  std::string s;
  for (std::size_t i = 0; i < ggml_backend_reg_count(); ++i) {
    ggml_backend_reg_t reg = ggml_backend_reg_get(i);
    void* fn = ggml_backend_reg_get_proc_address(reg, "ggml_backend_get_features");
    if (fn == nullptr) {
      continue;
    }
    auto get_features = reinterpret_cast<ggml_backend_get_features_t>(fn);
    s += ggml_backend_reg_name(reg);
    s += " : ";
    for (ggml_backend_feature* f = get_features(reg); f->name != nullptr; ++f) {
      s += f->name;
      s += " = ";
      s += f->value;
      s += " | ";
    }
  }
  return s;
}

int collect_object(dl_phdr_info* info, std::size_t /*size*/, void* data) {
  auto* names = static_cast<std::vector<std::string>*>(data);
  if (info->dlpi_name != nullptr) {
    names->emplace_back(info->dlpi_name);
  }
  return 0;
}

}  // namespace

TEST(EnginesLink, GgmlVersionIsTheInstalledOne) {
  const char* version = ggml_version();
  ASSERT_NE(version, nullptr);
  // The version the CMake package in the engines prefix announced; whisper's
  // bundled ggml (0.15.x) would differ.
  EXPECT_STREQ(version, SCRIBEPOD_GGML_VERSION);
  const char* commit = ggml_commit();
  ASSERT_NE(commit, nullptr);
  EXPECT_GT(std::string_view(commit).size(), 0U);
}

TEST(EnginesLink, WhisperVersionMatchesPackage) {
  const char* version = whisper_version();
  ASSERT_NE(version, nullptr);
  EXPECT_STREQ(version, SCRIBEPOD_WHISPER_VERSION);
}

TEST(EnginesLink, OneBackendRegistryWithACpuBackend) {
  ASSERT_GE(ggml_backend_reg_count(), 1U);
  ASSERT_GE(ggml_backend_dev_count(), 1U);
  ggml_backend_reg_t cpu = ggml_backend_reg_by_name("CPU");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu, ggml_backend_cpu_reg());
  EXPECT_NE(ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU), nullptr);
}

TEST(EnginesLink, BothEnginesReportTheSameGgmlFeatures) {
  const std::string from_ggml = ggml_features_from_registry();
  ASSERT_NE(from_ggml.find("CPU : "), std::string::npos) << from_ggml;

  const char* llama_info_c = llama_print_system_info();
  ASSERT_NE(llama_info_c, nullptr);
  const std::string llama_info = llama_info_c;
  EXPECT_EQ(llama_info, from_ggml);

  const char* whisper_info_c = whisper_print_system_info();
  ASSERT_NE(whisper_info_c, nullptr);
  const std::string whisper_info = whisper_info_c;
  ASSERT_EQ(whisper_info.rfind("WHISPER : ", 0), 0U) << whisper_info;
  // whisper prefixes its own flags, then lists the very same ggml registry.
  ASSERT_GE(whisper_info.size(), from_ggml.size());
  EXPECT_EQ(whisper_info.substr(whisper_info.size() - from_ggml.size()), from_ggml);
}

TEST(EnginesLink, BothEnginesDriveTheSameGgmlLogger) {
  const LoggerReset reset;
  LogSink whisper_sink;
  LogSink llama_sink;

  whisper_log_set(record_log, &whisper_sink);
  ggml_log_callback cb = nullptr;
  void* user = nullptr;
  ggml_log_get(&cb, &user);
  EXPECT_EQ(cb, &record_log);
  EXPECT_EQ(user, &whisper_sink);

  // A message logged inside ggml itself reaches the sink whisper installed.
  EXPECT_EQ(ggml_backend_load("/nonexistent/scribepod/libggml-none.so"), nullptr);
  EXPECT_GE(whisper_sink.calls, 1);
  EXPECT_NE(whisper_sink.text.find("libggml-none.so"), std::string::npos) << whisper_sink.text;

  llama_log_set(record_log, &llama_sink);
  ggml_log_get(&cb, &user);
  EXPECT_EQ(user, &llama_sink);
  const int whisper_calls_before = whisper_sink.calls;
  EXPECT_EQ(ggml_backend_load("/nonexistent/scribepod/libggml-none.so"), nullptr);
  EXPECT_GE(llama_sink.calls, 1);
  EXPECT_EQ(whisper_sink.calls, whisper_calls_before);
}

TEST(EnginesLink, LlamaBackendInitAndFree) {
  llama_backend_init();
  EXPECT_GE(llama_max_devices(), 1U);
  EXPECT_TRUE(llama_supports_mmap());
  const llama_model_params mparams = llama_model_default_params();
  const llama_context_params cparams = llama_context_default_params();
  EXPECT_GT(cparams.n_batch, 0U);
  {
    const LoggerReset reset;
    LogSink sink;
    llama_log_set(record_log, &sink);
    EXPECT_EQ(llama_model_load_from_file("/nonexistent/scribepod/model.gguf", mparams), nullptr);
  }
  llama_backend_free();
}

TEST(EnginesLink, WhisperDefaultsAreSane) {
  const whisper_context_params cparams = whisper_context_default_params();
  EXPECT_GE(cparams.gpu_device, 0);
  EXPECT_FALSE(cparams.dtw_token_timestamps);

  const whisper_full_params fparams = whisper_full_default_params(WHISPER_SAMPLING_GREEDY);
  EXPECT_EQ(fparams.strategy, WHISPER_SAMPLING_GREEDY);
  EXPECT_GT(fparams.n_threads, 0);
  EXPECT_GE(whisper_lang_id("en"), 0);
  EXPECT_LT(whisper_lang_id("definitely-not-a-language"), 0);

  const LoggerReset reset;
  LogSink sink;
  whisper_log_set(record_log, &sink);
  EXPECT_EQ(whisper_init_from_file_with_params("/nonexistent/scribepod/ggml-model.bin", cparams),
            nullptr);
  EXPECT_GE(sink.calls, 1);
}

TEST(EnginesLink, GgmlComputesOnTheCpuBackend) {
  ggml_init_params params{};
  params.mem_size = std::size_t{16} * 1024 * 1024;
  params.mem_buffer = nullptr;
  params.no_alloc = false;
  ggml_context* ctx = ggml_init(params);
  ASSERT_NE(ctx, nullptr);

  constexpr std::array<float, 4> a_vals{1.0F, 2.0F, 3.0F, 4.0F};
  constexpr std::array<float, 4> b_vals{10.0F, 20.0F, 30.0F, 40.0F};
  ggml_tensor* a = ggml_new_tensor_1d(ctx, GGML_TYPE_F32, 4);
  ggml_tensor* b = ggml_new_tensor_1d(ctx, GGML_TYPE_F32, 4);
  for (int i = 0; i < 4; ++i) {
    ggml_set_f32_1d(a, i, a_vals.at(static_cast<std::size_t>(i)));
    ggml_set_f32_1d(b, i, b_vals.at(static_cast<std::size_t>(i)));
  }
  ggml_tensor* c = ggml_add(ctx, ggml_mul(ctx, a, b), a);
  ggml_cgraph* graph = ggml_new_graph(ctx);
  ggml_build_forward_expand(graph, c);
  ASSERT_EQ(ggml_graph_compute_with_ctx(ctx, graph, 2), GGML_STATUS_SUCCESS);
  for (int i = 0; i < 4; ++i) {
    const auto idx = static_cast<std::size_t>(i);
    EXPECT_FLOAT_EQ(ggml_get_f32_1d(c, i), a_vals.at(idx) * b_vals.at(idx) + a_vals.at(idx));
  }
  ggml_free(ctx);
}

TEST(EnginesLink, NoSharedEngineLibraryIsLoaded) {
  // Everything is linked statically: a libggml/libwhisper/libllama shared
  // object in the process would be a second copy.
  std::vector<std::string> objects;
  dl_iterate_phdr(collect_object, &objects);
  ASSERT_FALSE(objects.empty());
  for (const std::string& name : objects) {
    for (std::string_view bad : {"libggml", "libwhisper", "libllama", "libparakeet"}) {
      EXPECT_EQ(name.find(bad), std::string::npos) << "shared engine library loaded: " << name;
    }
  }
}
