#pragma once
// What one template may do. Chat templates come from files downloaded from
// strangers and render text from users, so every recursive or growing
// structure has a bound; each bound is an Error that names it. The bounds are
// far above what real chat templates use (tests/chat/chat_templates
// renders llama.cpp's and Hugging Face's under them).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mobilellm::jinja {

constexpr int kMaxNesting = 200;    // brackets, operators and blocks nested in the source
constexpr int kMaxCallDepth = 100;  // macro calls in progress at once
// Expressions and blocks being evaluated at once: the parser bounds each tree
// by kMaxNesting, this bounds their sum through macro calls. One level takes a
// few hundred bytes of stack in a release build and several kilobytes under
// AddressSanitizer, whose build must stay inside the 8 MiB main stack too.
constexpr int kMaxRenderDepth = 400;
constexpr int kMaxValueDepth = 100;                   // lists and dicts nested in a value
constexpr int64_t kMaxSteps = 1'000'000;              // statements, loop iterations and items visited
constexpr size_t kMaxStringBytes = size_t{64} << 20;  // any one string, the output included
constexpr size_t kMaxListItems = size_t{1} << 20;     // any one list
constexpr size_t kMaxBuiltBytes = size_t{1} << 30;    // all strings built in one render: bounds its time

// One render's running totals, for the thread that renders (value helpers such
// as ==, repr and tojson charge them without an interpreter at hand). Outside
// a render nothing is counted.
class RenderBudget {
 public:
  RenderBudget();
  ~RenderBudget();
  RenderBudget(const RenderBudget&) = delete;
  RenderBudget& operator=(const RenderBudget&) = delete;

 private:
  RenderBudget* outer_;
  int64_t steps_ = 0;
  size_t built_bytes_ = 0;
  friend void charge_steps(int64_t n);
  friend void charge_built(size_t bytes);
};

// Throw mobilellm::Error when the current render goes past kMaxSteps /
// kMaxBuiltBytes.
void charge_steps(int64_t n);
void charge_built(size_t bytes);

// Throw when a string of `bytes` / a list of `items` would pass its bound.
void check_string_size(size_t bytes);
void check_list_size(size_t items);
// out += piece, refused past kMaxStringBytes.
void append_bounded(std::string& out, std::string_view piece);

}  // namespace mobilellm::jinja
