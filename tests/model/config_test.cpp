// config.json parsing: every branch of spec §3 and a specific error per bad key.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "model/config.h"
#include "runtime/error.h"

namespace mobilellm::model {
namespace {

using nlohmann::json;

json minimal() {
  return json{{"model_type", "llama4_text"}, {"vocab_size", 100},        {"hidden_size", 32},
              {"num_hidden_layers", 8},      {"num_attention_heads", 4}, {"num_key_value_heads", 2},
              {"intermediate_size_mlp", 48}, {"intermediate_size", 64}};
}

std::string error_of(const json& j) {
  try {
    parse_model_config(j, "config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Config, Llama4DefaultsWhenKeysAbsent) {
  json j = minimal();
  j["attention_chunk_size"] = 16;
  ModelConfig c = parse_model_config(j, "config.json");
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.intermediate_size, 48);  // intermediate_size_mlp wins
  ASSERT_EQ(c.num_layers(), 8);
  for (int l = 0; l < 8; ++l) {
    const bool rope = (l + 1) % 4 != 0;
    EXPECT_EQ(c.layers[l].use_rope, rope) << l;
    EXPECT_EQ(c.layers[l].attention, rope ? AttentionKind::kChunked : AttentionKind::kFull) << l;
  }
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
  EXPECT_TRUE(c.use_qk_norm);
  EXPECT_FALSE(c.tie_word_embeddings);  // Llama4TextConfig's default
}

TEST(Config, ExplicitLayerPatternAndHeadDim) {
  json j = minimal();
  j["head_dim"] = 24;
  j["no_rope_layers"] = {1, 1, 1, 0, 1, 1, 1, 1};
  j["layer_types"] = {"full_attention", "sliding_attention", "sliding_attention", "sliding_attention",
                      "full_attention", "sliding_attention", "sliding_attention", "full_attention"};
  j["sliding_window"] = 4;
  j["tie_word_embeddings"] = true;
  ModelConfig c = parse_model_config(j, "config.json");
  EXPECT_EQ(c.head_dim, 24);
  EXPECT_EQ(c.q_dim(), 96);
  EXPECT_FALSE(c.layers[3].use_rope);
  EXPECT_TRUE(c.layers[7].use_rope);
  EXPECT_EQ(c.layers[1].attention, AttentionKind::kSliding);
  EXPECT_EQ(c.layers[7].attention, AttentionKind::kFull);
  EXPECT_TRUE(c.tie_word_embeddings);
}

TEST(Config, BothRopeSpellings) {
  json old_style = minimal();
  old_style["rope_theta"] = 10000.0;
  old_style["rope_scaling"] = {{"rope_type", "llama3"},
                               {"factor", 8.0},
                               {"low_freq_factor", 1.0},
                               {"high_freq_factor", 4.0},
                               {"original_max_position_embeddings", 64}};
  json new_style = minimal();
  new_style["rope_parameters"] = {{"rope_theta", 10000.0},   {"rope_type", "llama3"},
                                  {"factor", 8.0},           {"low_freq_factor", 1.0},
                                  {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 64}};
  for (const json& j : {old_style, new_style}) {
    ModelConfig c = parse_model_config(j, "config.json");
    EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
    EXPECT_TRUE(c.rope_scaling.llama3);
    EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 8.0);
    EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 64);
  }
  json plain = minimal();
  plain["rope_parameters"] = {{"rope_theta", 1000.0}, {"rope_type", "default"}};
  EXPECT_FALSE(parse_model_config(plain, "config.json").rope_scaling.llama3);
}

// Found by fuzz_config: the per-layer table was allocated from
// num_hidden_layers before anything bounded it (a 10^15-layer config aborted).
TEST(Config, LayerCountIsBounded) {
  json j = minimal();
  j["num_hidden_layers"] = 1000000000000000;
  EXPECT_NE(error_of(j).find("\"num_hidden_layers\" is more than 4096"), std::string::npos) << error_of(j);
}

// JSON nested deeper than kMaxJsonDepth is refused while parsing the file.
TEST(Config, DeepJsonIsRefused) {
  std::string deep = "{\"a\": " + std::string(1000, '[') + std::string(1000, ']') + "}";
  try {
    parse_config_json(deep, "config.json");
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("config.json: JSON nests deeper than 64 levels"), std::string::npos)
        << e.what();
  }
}

TEST(Config, ErrorsNameTheKey) {
  auto with = [](const char* key, json value) {
    json j = minimal();
    j[key] = value;
    return j;
  };
  json missing = minimal();
  missing.erase("hidden_size");
  EXPECT_NE(error_of(missing).find("\"hidden_size\" is missing"), std::string::npos) << error_of(missing);
  EXPECT_NE(error_of(with("hidden_size", "big")).find("\"hidden_size\" must be an integer"), std::string::npos);
  EXPECT_NE(error_of(with("num_key_value_heads", 3)).find("\"num_key_value_heads\""), std::string::npos);
  EXPECT_NE(error_of(with("vocab_size", -5)).find("\"vocab_size\" must be positive"), std::string::npos);
  EXPECT_NE(error_of(with("layer_types", json::array({"full_attention"}))).find("\"layer_types\""), std::string::npos);
  json sliding = with("layer_types", json(std::vector<std::string>(8, "sliding_attention")));
  EXPECT_NE(error_of(sliding).find("\"sliding_window\" must be set"), std::string::npos) << error_of(sliding);
  EXPECT_NE(error_of(with("layer_types", json(std::vector<std::string>(8, "global")))).find("\"layer_types[0]\""),
            std::string::npos);
  EXPECT_NE(error_of(with("no_rope_layers", json::array({1, 1}))).find("\"no_rope_layers\""), std::string::npos);
  EXPECT_NE(error_of(with("no_rope_layers", json(std::vector<int>(8, 2)))).find("\"no_rope_layers[0]\""),
            std::string::npos);
  EXPECT_NE(error_of(with("rope_scaling", json{{"rope_type", "yarn"}})).find("\"rope_scaling.rope_type\""),
            std::string::npos);
  EXPECT_NE(error_of(with("rope_scaling", json{{"rope_type", "llama3"}, {"factor", 8.0}})).find("low_freq_factor"),
            std::string::npos);
  EXPECT_NE(error_of(with("moe_layers", json::array({0}))).find("\"moe_layers\""), std::string::npos);
  EXPECT_NE(error_of(with("hidden_act", "gelu")).find("\"hidden_act\""), std::string::npos);
  EXPECT_NE(error_of(with("head_dim", 7)).find("\"head_dim\" must be even"), std::string::npos);
  EXPECT_NE(error_of(with("eos_token_id", 100)).find("\"eos_token_id\""), std::string::npos);
  EXPECT_NE(error_of(with("rms_norm_eps", 0)).find("\"rms_norm_eps\""), std::string::npos);
  EXPECT_NE(error_of(json::array()).find("must be a JSON object"), std::string::npos);
}

TEST(Config, ParameterCountOfTheProShape) {
  json j = {{"vocab_size", 202048},          {"hidden_size", 1280},       {"num_hidden_layers", 30},
            {"num_attention_heads", 20},     {"num_key_value_heads", 4},  {"head_dim", 64},
            {"intermediate_size_mlp", 6144}, {"intermediate_size", 8192}, {"tie_word_embeddings", true}};
  EXPECT_EQ(parse_model_config(j, "config.json").parameter_count(), 1084453120);
}

}  // namespace
}  // namespace mobilellm::model
