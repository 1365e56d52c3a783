#include "server/sse.h"

#include "server/openai_response.h"

namespace mobilellm::server {

std::string sse_event(const Json& data) { return "data: " + dump(data) + "\n\n"; }

}  // namespace mobilellm::server
