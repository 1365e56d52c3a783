// The converter on small random checkpoints: the codes and scales it stores
// are the codec's (hence torchao's) for every matrix, learned channel scales
// are used as given, aliases and extra tensors are handled and reported, and
// bad input is an Error naming the tensor.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <unistd.h>

#include "convert/convert.h"
#include "format/model_file.h"
#include "io/safetensors.h"
#include "model/forward.h"
#include "model/random_checkpoint.h"
#include "quant/ggml_q4_1.h"
#include "quant/int4_quant.h"
#include "quant/q4_matrix.h"
#include "runtime/dtype.h"
#include "runtime/error.h"

namespace mobilellm::convert {
namespace {

namespace fs = std::filesystem;

// The tiny preset with a query width that groups of 32 divide (10 heads of 16, GQA 5).
model::ModelConfig small_config() {
  model::ModelConfig c = model::preset_config("tiny");
  c.num_heads = 10;
  c.num_kv_heads = 2;
  return c;
}

class ConvertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mobilellm_convert_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    model::write_random_checkpoint(small_config(), dir_ / "ckpt", 3);
    std::ofstream(dir_ / "ckpt" / "random_weights.txt") << "random\n";  // what make-random adds
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Rewrites the checkpoint's safetensors through `edit` (rename, add, change tensors).
  void edit_checkpoint(
      const std::function<void(std::vector<io::TensorToWrite>&, std::vector<std::vector<uint8_t>>&)>& edit) {
    std::vector<io::TensorToWrite> tensors;
    std::vector<std::vector<uint8_t>> storage;
    {
      const io::SafetensorsArchive archive = io::SafetensorsArchive::open(dir_ / "ckpt");
      storage.reserve(archive.tensors().size() + 16);
      for (const auto& [name, t] : archive.tensors()) {
        storage.emplace_back(t.data, t.data + t.nbytes);
        tensors.push_back({name, t.dtype, t.shape, nullptr, t.nbytes});
      }
      edit(tensors, storage);
      for (size_t i = 0; i < tensors.size(); ++i) tensors[i].data = storage[i].data();
      io::write_safetensors(dir_ / "next.safetensors", tensors);
    }
    fs::rename(dir_ / "next.safetensors", dir_ / "ckpt" / "model.safetensors");
  }

  ConvertReport convert(const std::string& scheme) {
    ConvertOptions o;
    o.input = dir_ / "ckpt";
    o.output = dir_ / ("out." + scheme);
    o.scheme = scheme;
    o.threads = 2;
    return convert_checkpoint(o);
  }

  fs::path dir_;
};

std::vector<float> bf16_row(const io::TensorEntry& t, int64_t row) {
  const int64_t cols = t.shape[1];
  std::vector<float> out(cols);
  for (int64_t k = 0; k < cols; ++k) {
    uint16_t h;
    std::memcpy(&h, t.data + 2 * (row * cols + k), 2);
    out[k] = bf16_to_float(h);
  }
  return out;
}

quant::Q4Matrix view(const format::ModelFile& f, const format::TensorInfo& t) {
  return quant::q4_view(t.type == format::TensorType::kQ4G32 ? quant::Q4Scheme::kGroup32 : quant::Q4Scheme::kChannel,
                        t.shape[0], t.shape[1], f.data(t));
}

TEST_F(ConvertTest, Q4g32StoresTheCodecsCodesAndScales) {
  const ConvertReport r = convert("q4g32");
  EXPECT_TRUE(r.unknown_tensors.empty());
  auto file = format::ModelFile::open(dir_ / "out.q4g32");
  EXPECT_NO_THROW(file->verify_data());
  EXPECT_EQ(file->index().scheme, format::Scheme::kQ4G32);
  EXPECT_EQ(file->find("lm_head.weight"), nullptr);  // tied: stored once
  EXPECT_TRUE(file->index().source["random_weights"].get<bool>());
  const io::SafetensorsArchive src = io::SafetensorsArchive::open(dir_ / "ckpt");
  int matrices = 0;
  for (const auto& t : file->index().tensors) {
    const io::TensorEntry* s = src.find(t.name);
    ASSERT_NE(s, nullptr) << t.name;
    if (t.shape.size() == 1) {
      ASSERT_EQ(t.type, format::TensorType::kF32) << t.name;
      continue;
    }
    ASSERT_EQ(t.type, format::TensorType::kQ4G32) << t.name;
    ++matrices;
    const quant::Q4Matrix w = view(*file, t);
    const int64_t cols = t.shape[1];
    std::vector<int8_t> codes(cols);
    std::vector<float> scales(cols / 32);
    for (int64_t row : {int64_t{0}, t.shape[0] / 2, t.shape[0] - 1}) {
      const std::vector<float> x = bf16_row(*s, row);
      quant::q4_quantize_groups(x.data(), cols, 32, codes.data(), scales.data());
      for (int64_t k = 0; k < cols; ++k) ASSERT_EQ(quant::q4_code_at(w, row, k), codes[k]) << t.name << " " << row;
      for (int64_t g = 0; g < cols / 32; ++g) ASSERT_EQ(quant::q4_scale_at(w, row, g), scales[g]) << t.name;
    }
  }
  EXPECT_EQ(matrices, 1 + 7 * 6);
}

TEST_F(ConvertTest, Q4cwUsesLearnedScalesAndReportsExtras) {
  const std::string q = "model.layers.1.self_attn.q_proj";
  edit_checkpoint([&](auto& tensors, auto& storage) {
    // A learned scale for one linear, an alias spelling, and a tensor nobody knows.
    std::vector<float> scale(160, 0.004f);
    scale[7] = 0.0005f;
    storage.emplace_back(reinterpret_cast<uint8_t*>(scale.data()), reinterpret_cast<uint8_t*>(scale.data() + 160));
    tensors.push_back({q + ".weight_fake_quantizer.scale", "F32", {160, 1}, nullptr, 640});
    storage.emplace_back(4, 0);
    tensors.push_back({"model.layers.0.self_attn.rotary_inv_freq", "F32", {1}, nullptr, 4});
    for (auto& t : tensors)
      if (t.name == "model.layers.2.feed_forward.up_proj.weight") t.name = "model.layers.2.mlp.up_proj.weight";
  });
  const ConvertReport r = convert("q4cw");
  ASSERT_EQ(r.unknown_tensors.size(), 1u);
  EXPECT_EQ(r.unknown_tensors[0], "model.layers.0.self_attn.rotary_inv_freq");
  EXPECT_EQ(r.learned_scales_used, 1);
  auto file = format::ModelFile::open(dir_ / "out.q4cw");
  ASSERT_NE(file->find("model.layers.2.feed_forward.up_proj.weight"), nullptr);
  const io::SafetensorsArchive src = io::SafetensorsArchive::open(dir_ / "ckpt");
  const format::TensorInfo* t = file->find(q + ".weight");
  ASSERT_NE(t, nullptr);
  const quant::Q4Matrix w = view(*file, *t);
  std::vector<int8_t> codes(64);
  for (int64_t row : {0, 7}) {
    const float s = row == 7 ? 0.0005f : 0.004f;
    EXPECT_EQ(quant::q4_scale_at(w, row, 0), s);
    const std::vector<float> x = bf16_row(*src.find(q + ".weight"), row);
    quant::q4_quantize(x.data(), 64, s, codes.data());
    for (int64_t k = 0; k < 64; ++k) ASSERT_EQ(quant::q4_code_at(w, row, k), codes[k]) << row << "," << k;
  }
  // Without a learned scale: amax / 7.5 per row.
  const format::TensorInfo* o = file->find("model.layers.1.self_attn.o_proj.weight");
  const std::vector<float> x = bf16_row(*src.find(o->name), 3);
  EXPECT_EQ(quant::q4_scale_at(view(*file, *o), 3, 0), quant::q4_scale(quant::max_abs(x.data(), 160)));
}

TEST_F(ConvertTest, Q4_1StoresGgmlBlocksOfEveryMatrix) {
  const ConvertReport r = convert("q4_1");
  EXPECT_TRUE(r.kept_float.empty());
  auto file = format::ModelFile::open(dir_ / "out.q4_1");
  EXPECT_NO_THROW(file->verify_data());
  EXPECT_EQ(file->index().scheme, format::Scheme::kQ4_1);
  const io::SafetensorsArchive src = io::SafetensorsArchive::open(dir_ / "ckpt");
  int matrices = 0;
  for (const auto& t : file->index().tensors) {
    if (t.shape.size() == 1) continue;
    ASSERT_EQ(t.type, format::TensorType::kQ4_1) << t.name;
    ++matrices;
    const quant::Q4Matrix w = quant::q4_view(quant::Q4Scheme::kAffine32, t.shape[0], t.shape[1], file->data(t));
    const int64_t groups = t.shape[1] / 32;
    std::vector<uint8_t> want(groups * quant::kGgmlQ4_1BlockBytes), got(want.size());
    for (int64_t row : {int64_t{0}, t.shape[0] / 2, t.shape[0] - 1}) {
      const std::vector<float> x = bf16_row(*src.find(t.name), row);
      for (int64_t g = 0; g < groups; ++g)
        ASSERT_TRUE(quant::ggml_q4_1_quantize_block(x.data() + 32 * g, want.data() + g * quant::kGgmlQ4_1BlockBytes));
      quant::q4_row_to_ggml_q4_1(w, row, got.data());
      ASSERT_EQ(got, want) << t.name << " row " << row;
    }
  }
  EXPECT_EQ(matrices, 1 + 7 * 6);
}

TEST_F(ConvertTest, Q4_1KeepsMatricesOfOtherWidthsInF32AndTheFileRuns) {
  model::ModelConfig c = small_config();
  c.intermediate_size = 200;  // down_proj's width: not a multiple of 32
  fs::remove_all(dir_ / "ckpt");
  model::write_random_checkpoint(c, dir_ / "ckpt", 5);
  const ConvertReport r = convert("q4_1");
  ASSERT_EQ(r.kept_float.size(), 6u);
  auto file = format::ModelFile::open(dir_ / "out.q4_1");
  for (const auto& name : r.kept_float) {
    EXPECT_NE(name.find("down_proj"), std::string::npos) << name;
    EXPECT_EQ(file->find(name)->type, format::TensorType::kF32) << name;
  }
  EXPECT_EQ(file->find("model.layers.0.feed_forward.up_proj.weight")->type, format::TensorType::kQ4_1);
  const auto model = model::Model::load(dir_ / "out.q4_1");
  ThreadPool pool(2);
  model::KvCache cache(model->config(), 16);
  model::Forward forward(*model, pool);
  std::vector<float> logits(static_cast<size_t>(model->config().vocab_size));
  const std::vector<int32_t> ids{1, 5, 9};
  forward.run(cache, ids, model::LogitsFor::kLast, logits.data());
  for (float v : logits) ASSERT_TRUE(std::isfinite(v));
}

TEST_F(ConvertTest, Q4_1BeyondTheFp16RangeNamesTheTensor) {
  const std::string name = "model.layers.2.self_attn.k_proj.weight";
  edit_checkpoint([&](auto& tensors, auto& storage) {
    for (size_t i = 0; i < tensors.size(); ++i)
      if (tensors[i].name == name) {
        const uint16_t huge = float_to_bf16(1e30f);
        std::memcpy(storage[i].data() + 2 * 70, &huge, 2);
      }
  });
  try {
    convert("q4_1");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("fp16"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir_ / "out.q4_1"));
}

TEST_F(ConvertTest, FloatSchemesKeepTheValues) {
  convert("bf16");
  convert("f32");
  auto b = format::ModelFile::open(dir_ / "out.bf16");
  auto f = format::ModelFile::open(dir_ / "out.f32");
  const io::SafetensorsArchive src = io::SafetensorsArchive::open(dir_ / "ckpt");
  const std::string name = "model.layers.3.feed_forward.down_proj.weight";
  const io::TensorEntry* s = src.find(name);
  ASSERT_EQ(b->find(name)->type, format::TensorType::kBF16);
  ASSERT_EQ(f->find(name)->type, format::TensorType::kF32);
  EXPECT_EQ(std::memcmp(b->data(*b->find(name)), s->data, s->nbytes), 0);
  const float* v = reinterpret_cast<const float*>(f->data(*f->find(name)));
  EXPECT_EQ(v[5], bf16_row(*s, 0)[5]);
}

TEST_F(ConvertTest, BadInputNamesTheTensor) {
  auto expect_error = [&](const std::string& scheme, const std::string& needle) {
    try {
      convert(scheme);
      FAIL() << "no error, expected one mentioning " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dir_ / ("out." + scheme))) << "a failed conversion left an output file";
    EXPECT_FALSE(fs::exists(dir_ / ("out." + scheme + ".partial-" + std::to_string(::getpid()))));
  };
  edit_checkpoint([](auto& tensors, auto& storage) {
    for (size_t i = 0; i < tensors.size(); ++i)
      if (tensors[i].name == "model.layers.4.self_attn.v_proj.weight") {
        const uint16_t nan = 0x7fc0;
        std::memcpy(storage[i].data() + 2 * 70, &nan, 2);
      }
  });
  expect_error("q4g32", "model.layers.4.self_attn.v_proj.weight");
  edit_checkpoint([](auto& tensors, auto&) {
    std::erase_if(tensors, [](const io::TensorToWrite& t) { return t.name == "model.norm.weight"; });
  });
  expect_error("bf16", "model.norm.weight");
  EXPECT_THROW(convert("q3"), Error);
}

TEST_F(ConvertTest, NonPositiveLearnedScaleIsAnError) {
  const std::string name = "model.layers.0.feed_forward.gate_proj.weight_fake_quantizer.scale";
  edit_checkpoint([&](auto& tensors, auto& storage) {
    std::vector<float> scale(192, 0.01f);
    scale[5] = -1.0f;
    storage.emplace_back(reinterpret_cast<uint8_t*>(scale.data()), reinterpret_cast<uint8_t*>(scale.data() + 192));
    tensors.push_back({name, "F32", {192, 1}, nullptr, 768});
  });
  try {
    convert("q4cw");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
  }
  // q4g32 does not use channel scales: they are counted, not applied.
  EXPECT_EQ(convert("q4g32").learned_scales_ignored, 1);
}

}  // namespace
}  // namespace mobilellm::convert
