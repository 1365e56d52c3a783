#include "chat/jinja/limits.h"

#include "runtime/error.h"

namespace mobilellm::jinja {
namespace {

thread_local RenderBudget* current = nullptr;

}  // namespace

RenderBudget::RenderBudget() : outer_(current) { current = this; }
RenderBudget::~RenderBudget() { current = outer_; }

void charge_steps(int64_t n) {
  if (!current) return;
  current->steps_ += n;
  if (current->steps_ > kMaxSteps)
    throw Error("chat template: rendering takes more than " + std::to_string(kMaxSteps) + " steps");
}

void charge_built(size_t bytes) {
  if (!current) return;
  current->built_bytes_ += bytes;
  if (current->built_bytes_ > kMaxBuiltBytes)
    throw Error("chat template: rendering builds more than " + std::to_string(kMaxBuiltBytes >> 20) +
                " MiB of strings");
}

void check_string_size(size_t bytes) {
  if (bytes > kMaxStringBytes)
    throw Error("chat template: a string would be larger than " + std::to_string(kMaxStringBytes >> 20) + " MiB");
}

void check_list_size(size_t items) {
  if (items > kMaxListItems)
    throw Error("chat template: a list would have more than " + std::to_string(kMaxListItems) + " items");
}

void append_bounded(std::string& out, std::string_view piece) {
  check_string_size(out.size() + piece.size());
  out += piece;
}

}  // namespace mobilellm::jinja
