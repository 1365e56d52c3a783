#pragma once
// Errors the API reports to clients, with the HTTP status and the
// OpenAI-shaped body {"error": {"message", "type", "param", "code"}}.
#include <stdexcept>
#include <string>

#include "server/json.h"

namespace mobilellm::server {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string type, const std::string& message, std::string param = {}, std::string code = {})
      : std::runtime_error(message),
        status_(status),
        type_(std::move(type)),
        param_(std::move(param)),
        code_(std::move(code)) {}

  int status() const { return status_; }
  const std::string& param() const { return param_; }
  Json body() const;

 private:
  int status_;
  std::string type_, param_, code_;
};

// 400 invalid_request_error, naming the offending parameter.
inline ApiError invalid_request(const std::string& message, std::string param = {}, std::string code = {}) {
  return ApiError(400, "invalid_request_error", message, std::move(param), std::move(code));
}

}  // namespace mobilellm::server
