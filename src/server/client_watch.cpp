#include "server/client_watch.h"

#include <chrono>

namespace mobilellm::server {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(50);

}  // namespace

ClientWatch::ClientWatch() : thread_([this] { run(); }) {}

ClientWatch::~ClientWatch() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  thread_.join();
}

std::unique_ptr<ClientWatch::Registration> ClientWatch::watch(std::function<bool()> connection_closed) {
  auto entry = std::make_shared<Registration::Entry>();
  entry->closed = std::move(connection_closed);
  std::lock_guard<std::mutex> lock(mutex_);
  entry->gone = shutting_down_.load();
  entries_.push_front(entry);
  return std::unique_ptr<Registration>(new Registration(*this, entries_.begin()));
}

void ClientWatch::cancel_all() {
  std::lock_guard<std::mutex> lock(mutex_);
  shutting_down_ = true;
  for (const auto& entry : entries_) entry->gone = true;
}

ClientWatch::Registration::~Registration() {
  std::lock_guard<std::mutex> lock(owner_.mutex_);
  owner_.entries_.erase(it_);
}

void ClientWatch::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    // A registration unregisters under the mutex, so a polled connection is
    // still its request's own (the handler is still running).
    for (const auto& entry : entries_)
      if (!entry->gone && entry->closed()) entry->gone = true;
    stop_cv_.wait_for(lock, kPollInterval);
  }
}

}  // namespace mobilellm::server
