#include "tokenizer/splitter.h"

#include "runtime/error.h"
#include "tokenizer/llama4_splitter.h"
#include "tokenizer/pcre2_splitter.h"

namespace mobilellm::tokenizer {

const std::string_view kLlama4Pattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

const std::string_view kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

namespace {

std::unique_ptr<Splitter> make_stage(std::string_view pattern) {
  if (pattern == kLlama4Pattern) return std::make_unique<Llama4Splitter>();
  return std::make_unique<Pcre2Splitter>(pattern);
}

// Stages in turn: every piece of one stage is split again by the next.
class StagedSplitter final : public Splitter {
 public:
  explicit StagedSplitter(const std::vector<std::string>& patterns) {
    for (const std::string& p : patterns) stages_.push_back(make_stage(p));
  }
  void split(std::string_view text, std::vector<std::string_view>& pieces) const override {
    std::vector<std::string_view> current{text}, next;
    for (size_t s = 0; s + 1 < stages_.size(); ++s) {
      next.clear();
      for (std::string_view piece : current) stages_[s]->split(piece, next);
      current.swap(next);
    }
    for (std::string_view piece : current) stages_.back()->split(piece, pieces);
  }

 private:
  std::vector<std::unique_ptr<Splitter>> stages_;
};

}  // namespace

std::unique_ptr<Splitter> make_splitter(const std::vector<std::string>& patterns) {
  if (patterns.empty()) throw Error("tokenizer has no split regex");
  if (patterns.size() == 1) return make_stage(patterns[0]);
  return std::make_unique<StagedSplitter>(patterns);
}

}  // namespace mobilellm::tokenizer
