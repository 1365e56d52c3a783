#include "chat/event_stream.h"

namespace mobilellm::chat {
namespace {
constexpr std::string_view kDone = "data: [DONE]\n\n";
}  // namespace

bool EventStream::send(const Json& data) { return write_("data: " + dump_json(data) + "\n\n"); }

void EventStream::fail(const Json& error) {
  send(error);
  write_(kDone);
}

void EventStream::finish(const Json& last_chunk, const Json& usage_chunk) {
  send(last_chunk);
  if (!usage_chunk.is_null()) send(usage_chunk);
  write_(kDone);
}

}  // namespace mobilellm::chat
