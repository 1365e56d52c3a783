// The hub pieces that need no network: model names, file selection, the cache
// location and layout (huggingface_hub's constants.py and file_download.py
// rules), URL origins.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "hub/cache.h"
#include "hub/client.h"
#include "hub/http.h"
#include "hub/select.h"
#include "runtime/error.h"

namespace mobilellm::hub {
namespace {

TEST(ModelRef, ParsesRepoAndSelector) {
  ModelRef r;
  ASSERT_TRUE(parse_model_ref("facebook/MobileLLM-Pro", r));
  EXPECT_EQ(r.repo, "facebook/MobileLLM-Pro");
  EXPECT_EQ(r.selector, "");
  ASSERT_TRUE(parse_model_ref("org/name-GGUF:Q4_K_M", r));
  EXPECT_EQ(r.repo, "org/name-GGUF");
  EXPECT_EQ(r.selector, "Q4_K_M");
  ASSERT_TRUE(parse_model_ref("facebook/MobileLLM-Pro:instruct/", r));
  EXPECT_EQ(r.selector, "instruct/");
}

TEST(ModelRef, RejectsWhatIsNotARepoId) {
  ModelRef r;
  for (const char* bad : {"model.safetensors", "/abs/path", "a/b/c", "org/", "/name", "org/na me", "org/-name",
                          "org/name.", "org/na--me", "org/na..me", "org/name:", "org/name:../x", "./org/name"})
    EXPECT_FALSE(parse_model_ref(bad, r)) << bad;
}

const std::vector<std::string> kCheckpoint = {"config.json",           "model.safetensors",        "tokenizer.json",
                                              "tokenizer_config.json", "generation_config.json",   "README.md",
                                              ".gitattributes",        "original/consolidated.pth"};

TEST(Select, RootCheckpointTakesItsFilesOnly) {
  const Selection s = select_files("o/n", kCheckpoint, "");
  EXPECT_EQ(s.model_path, "");
  EXPECT_EQ(s.files, (std::vector<std::string>{"config.json", "model.safetensors", "tokenizer.json",
                                               "tokenizer_config.json", "generation_config.json"}));
}

TEST(Select, SubfoldersDefaultToInstruct) {
  const std::vector<std::string> files = {"README.md",
                                          "base/config.json",
                                          "base/model.safetensors",
                                          "instruct/config.json",
                                          "instruct/model.safetensors",
                                          "instruct/tokenizer.model"};
  Selection s = select_files("facebook/MobileLLM-Pro", files, "");
  EXPECT_EQ(s.model_path, "instruct");
  EXPECT_EQ(s.files, (std::vector<std::string>{"instruct/config.json", "instruct/model.safetensors",
                                               "instruct/tokenizer.model"}));
  s = select_files("facebook/MobileLLM-Pro", files, "base/");
  EXPECT_EQ(s.model_path, "base");
  EXPECT_EQ(s.files.size(), 2u);
  const std::vector<std::string> two = {"a/config.json", "b/config.json"};
  EXPECT_THROW(select_files("o/n", two, ""), Error);
}

TEST(Select, GgufByTagOrName) {
  const std::vector<std::string> files = {
      "m-Q4_K_M.gguf",     "m-Q4_K_S.gguf", "m.Q8_0.gguf", "m-f16-00001-of-00002.gguf", "m-f16-00002-of-00002.gguf",
      "mmproj-m-f16.gguf", "README.md"};
  EXPECT_EQ(select_files("o/n", files, "").model_path, "m-Q4_K_M.gguf");
  EXPECT_EQ(select_files("o/n", files, "q8_0").model_path, "m.Q8_0.gguf");
  EXPECT_EQ(select_files("o/n", files, "m-Q4_K_S.gguf").files, std::vector<std::string>{"m-Q4_K_S.gguf"});
  const Selection split = select_files("o/n", files, "F16");
  EXPECT_EQ(split.model_path, "m-f16-00001-of-00002.gguf");
  EXPECT_EQ(split.files.size(), 2u);
  EXPECT_THROW(select_files("o/n", files, "Q4"), Error);    // no whole tag: not Q4_K_M
  EXPECT_THROW(select_files("o/n", files, "Q4_K"), Error);  // likewise
  EXPECT_THROW(select_files("o/n", files, "Q2_K"), Error);
  EXPECT_THROW(select_files("o/n", {"a-Q8_0.gguf", "b-Q8_0.gguf"}, "Q8_0"), Error);  // ambiguous
  EXPECT_THROW(select_files("o/n", {"README.md"}, ""), Error);
}

TEST(Select, IncludeGlobsAsHuggingfaceHubAllowPatterns) {
  Selection s = select_files("o/n", kCheckpoint, "", {"*.json"});
  EXPECT_EQ(s.files.size(), 4u);
  s = select_files("o/n", kCheckpoint, "", {"original/"});  // a folder: everything in it
  EXPECT_EQ(s.files, std::vector<std::string>{"original/consolidated.pth"});
  EXPECT_THROW(select_files("o/n", kCheckpoint, "", {"*.bin"}), Error);
}

class Env : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v :
         {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN",
          "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_ENDPOINT"})
      unsetenv(v);
    setenv("HOME", "/home/u", 1);
  }
};

TEST_F(Env, CacheDirFollowsHuggingfaceHubOrder) {
  EXPECT_EQ(default_cache_dir(), "/home/u/.cache/huggingface/hub");
  setenv("XDG_CACHE_HOME", "/x", 1);
  EXPECT_EQ(default_cache_dir(), "/x/huggingface/hub");
  setenv("HF_HOME", "~/hf", 1);
  EXPECT_EQ(default_cache_dir(), "/home/u/hf/hub");
  setenv("HUGGINGFACE_HUB_CACHE", "/legacy", 1);
  EXPECT_EQ(default_cache_dir(), "/legacy");
  setenv("HF_HUB_CACHE", "/c", 1);
  EXPECT_EQ(default_cache_dir(), "/c");
}

TEST_F(Env, EndpointOfflineAndToken) {
  EXPECT_EQ(default_endpoint(), "https://huggingface.co");
  setenv("HF_ENDPOINT", "http://mirror:8080/", 1);
  EXPECT_EQ(default_endpoint(), "http://mirror:8080");
  EXPECT_FALSE(offline_mode());
  setenv("HF_HUB_OFFLINE", "yes", 1);
  EXPECT_TRUE(offline_mode());
  setenv("HF_HUB_OFFLINE", "0", 1);
  EXPECT_FALSE(offline_mode());

  const auto dir = std::filesystem::temp_directory_path() / ("hub_unit_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  setenv("HF_HOME", dir.c_str(), 1);
  EXPECT_EQ(default_token(), "");
  std::ofstream(dir / "token") << "hf_file\n";
  EXPECT_EQ(default_token(), "hf_file");
  std::ofstream(dir / "other") << "hf_path";
  setenv("HF_TOKEN_PATH", (dir / "other").c_str(), 1);
  EXPECT_EQ(default_token(), "hf_path");
  setenv("HF_TOKEN", "hf_env", 1);
  EXPECT_EQ(default_token(), "hf_env");
  std::filesystem::remove_all(dir);
}

TEST(Cache, LayoutAndRefs) {
  const auto dir = std::filesystem::temp_directory_path() / ("hub_cache_" + std::to_string(getpid()));
  RepoCache cache(dir, "facebook/MobileLLM-Pro");
  EXPECT_EQ(cache.folder(), dir / "models--facebook--MobileLLM-Pro");
  EXPECT_EQ(cache.lock_file("abc"), dir / ".locks" / "models--facebook--MobileLLM-Pro" / "abc.lock");
  const std::string commit(40, 'a');
  EXPECT_FALSE(cache.commit_for("main"));
  EXPECT_EQ(cache.commit_for(commit), commit);
  cache.write_ref("main", commit);
  EXPECT_EQ(cache.commit_for("main"), commit);
  cache.link(commit, "instruct/config.json", "e1");
  EXPECT_EQ(std::filesystem::read_symlink(cache.snapshot(commit) / "instruct/config.json"), "../../../blobs/e1");
  cache.link(commit, "instruct/config.json", "e2");  // replaced in place
  EXPECT_EQ(std::filesystem::read_symlink(cache.snapshot(commit) / "instruct/config.json"), "../../../blobs/e2");
  std::filesystem::remove_all(dir);
}

TEST(Http, OriginsDecideWhereTheTokenGoes) {
  EXPECT_EQ(url_origin("https://huggingface.co/a/b"), url_origin("https://HuggingFace.co:443/x"));
  EXPECT_NE(url_origin("https://huggingface.co/a"), url_origin("https://cdn-lfs.huggingface.co/a"));
  EXPECT_NE(url_origin("http://127.0.0.1:8000/a"), url_origin("http://localhost:8000/a"));
  EXPECT_NE(url_origin("http://127.0.0.1:8000/a"), url_origin("http://127.0.0.1:8001/a"));
  EXPECT_EQ(resolve_url("http://h:1/a/resolve/main/x", "/b/resolve/main/x"), "http://h:1/b/resolve/main/x");
  EXPECT_EQ(url_escape("refs/pr/1"), "refs%2Fpr%2F1");
}

}  // namespace
}  // namespace mobilellm::hub
