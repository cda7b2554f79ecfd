// The model generator, the model file check, and what loading does with
// missing, truncated and garbage files (see whisper_test_support.h).
#include "asr/whisper/whisper_model_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "asr/whisper/whisper_recognizer.h"
#include "whisper_test_support.h"

namespace scribepod::asr {
namespace {

using namespace whisper_test;  // NOLINT: test helpers

TEST(WhisperModelTool, SameSeedSameBytesAndMicroIsSmall) {
  const std::string a = read_bytes(model("--shape micro --seed 5"));
  const std::string b = read_bytes(model("--shape micro --seed 5 --ftype f16"));
  const std::string c = read_bytes(model("--shape micro --seed 6"));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_LT(a.size(), 10U * 1024 * 1024);
}

TEST(WhisperModelFile, InspectsGeneratedModels) {
  Result<WhisperModelInfo> en = inspect_whisper_model_file(micro_en());
  ASSERT_TRUE(en.ok()) << en.error().message;
  EXPECT_EQ(en->n_vocab, 51864);
  EXPECT_FALSE(en->multilingual);
  EXPECT_EQ(en->n_audio_state, 64);
  EXPECT_EQ(en->ftype_name, "f16");
  EXPECT_EQ(en->tensors, 7 + 15 * 2 + 4 + 24 * 3);
  Result<WhisperModelInfo> ml = inspect_whisper_model_file(micro_multilingual());
  ASSERT_TRUE(ml.ok()) << ml.error().message;
  EXPECT_TRUE(ml->multilingual);
  Result<WhisperModelInfo> tiny = inspect_whisper_model_file(model("--shape tiny --ftype f32"));
  ASSERT_TRUE(tiny.ok()) << tiny.error().message;
  EXPECT_EQ(tiny->size_name, "tiny");
  EXPECT_EQ(tiny->n_audio_state, 384);
  EXPECT_EQ(tiny->ftype_name, "f32");
}

TEST(WhisperModelFile, PullNameFollowsFileName) {
  EXPECT_EQ(whisper_model_pull_name("/m/ggml-small.en.bin"), "small.en");
  EXPECT_EQ(whisper_model_pull_name("/m/whatever.bin"), "base.en");
}

// ---- loading and its failures ----

TEST(WhisperRecognizer, MissingModelNamesPathAndPullCommand) {
  Result<std::unique_ptr<Recognizer>> r =
      make_whisper_recognizer(params_for("/nonexistent/ggml-small.en.bin"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidConfig);
  EXPECT_NE(r.error().message.find("/nonexistent/ggml-small.en.bin"), std::string::npos);
  EXPECT_NE(r.error().message.find("scribepod models pull small.en"), std::string::npos);

  Result<std::unique_ptr<Recognizer>> dir =
      make_whisper_recognizer(params_for(scratch_dir().string()));
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.error().message.find("not a file"), std::string::npos);
  Result<std::unique_ptr<Recognizer>> none = make_whisper_recognizer(params_for(""));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("models pull"), std::string::npos);
}

TEST(WhisperRecognizer, TruncatedModelsFailCleanly) {
  const std::string whole = read_bytes(micro_en());
  // In the header, the mel filters, the vocabulary, the first tensors, the
  // token embedding, and one byte short of the end.
  for (const std::size_t keep :
       {std::size_t{2}, std::size_t{30}, std::size_t{40000}, std::size_t{400000},
        std::size_t{1000000}, std::size_t{5000000}, whole.size() - 1}) {
    const std::string path = write_file("truncated.bin", whole.substr(0, keep));
    Result<std::unique_ptr<Recognizer>> r = make_whisper_recognizer(params_for(path));
    ASSERT_FALSE(r.ok()) << "kept " << keep << " bytes";
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidConfig);
    EXPECT_NE(r.error().message.find(path), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("models pull"), std::string::npos) << r.error().message;
  }
}

TEST(WhisperRecognizer, GarbageModelsFailCleanly) {
  std::mt19937 rng(1);
  std::string random(1 << 20, '\0');
  for (char& c : random) c = static_cast<char>(rng());
  std::string with_magic = random;
  std::memcpy(with_magic.data(), "lmgg", 4);  // 0x67676d6c little-endian
  std::string bad_layers = read_bytes(micro_en());
  const std::int32_t five = 5;
  std::memcpy(bad_layers.data() + 4 * 5, &five, 4);  // n_audio_layer
  std::string bad_ftype = read_bytes(micro_en());
  const std::int32_t four = 4;  // GGML_FTYPE_MOSTLY_Q4_1_SOME_F16: whisper.cpp would abort
  std::memcpy(bad_ftype.data() + 4 * 11, &four, 4);
  std::string bad_shape = read_bytes(micro_en());
  const std::int32_t text_ctx = 447;
  std::memcpy(bad_shape.data() + 4 * 6, &text_ctx, 4);  // n_text_ctx: one tensor no longer fits
  std::string renamed = read_bytes(micro_en());
  const std::size_t at = renamed.find("encoder.conv1.weight");
  ASSERT_NE(at, std::string::npos);
  renamed[at + 12] = '9';  // "encoder.conv9.weight"
  for (const auto& [name, bytes] : std::map<std::string, std::string>{{"random", random},
                                                                      {"magic", with_magic},
                                                                      {"layers", bad_layers},
                                                                      {"ftype", bad_ftype},
                                                                      {"shape", bad_shape},
                                                                      {"renamed", renamed},
                                                                      {"empty", ""}}) {
    const std::string path = write_file(name + ".bin", bytes);
    Result<std::unique_ptr<Recognizer>> r = make_whisper_recognizer(params_for(path));
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidConfig) << name;
    EXPECT_NE(r.error().message.find(path), std::string::npos) << name << ": " << r.error().message;
  }
}

TEST(WhisperRecognizer, RejectsBadParameters) {
  WhisperParams p = params_for(micro_en());
  p.max_concurrent = 0;
  EXPECT_EQ(make_whisper_recognizer(p).error().code, ErrorCode::kInvalidConfig);
  p = params_for(micro_en());
  p.language = "de";  // an English-only model
  EXPECT_EQ(make_whisper_recognizer(p).error().code, ErrorCode::kInvalidConfig);
  p = params_for(micro_en());
  p.translate = true;
  EXPECT_EQ(make_whisper_recognizer(p).error().code, ErrorCode::kInvalidConfig);
}

}  // namespace
}  // namespace scribepod::asr
