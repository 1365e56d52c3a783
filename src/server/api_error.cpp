#include "server/api_error.h"

namespace mobilellm::server {

Json ApiError::body() const {
  Json error = {{"message", what()}, {"type", type_}, {"param", nullptr}, {"code", nullptr}};
  if (!param_.empty()) error["param"] = param_;
  if (!code_.empty()) error["code"] = code_;
  return {{"error", error}};
}

}  // namespace mobilellm::server
