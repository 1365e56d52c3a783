#include "server/disconnect_watch.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace mobilellm::server {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(50);

bool address_is(const sockaddr_storage& sa, const std::string& addr, int port) {
  char text[INET6_ADDRSTRLEN] = {};
  int actual_port = -1;
  if (sa.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&sa);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    actual_port = ntohs(in->sin_port);
  } else if (sa.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    actual_port = ntohs(in6->sin6_port);
  } else {
    return false;
  }
  return actual_port == port && addr == text;
}

// The socket of this process connected from remote to local, or -1.
int find_socket(const ConnectionAddress& a) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  int found = -1;
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0') continue;
    struct stat st;
    if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage local{}, remote{};
    socklen_t local_len = sizeof local, remote_len = sizeof remote;
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&local), &local_len) != 0) continue;
    if (getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&remote), &remote_len) != 0) continue;
    if (address_is(local, a.local_addr, a.local_port) && address_is(remote, a.remote_addr, a.remote_port)) {
      found = static_cast<int>(fd);
      break;
    }
  }
  closedir(dir);
  return found;
}

// End of stream (orderly close) or an error such as a reset: the client is gone.
bool closed(int fd) {
  char byte;
  const ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return false;  // a pipelined next request: still there
  if (n == 0) return true;
  return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

}  // namespace

DisconnectWatch::DisconnectWatch() : thread_([this] { run(); }) {}

DisconnectWatch::~DisconnectWatch() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  thread_.join();
}

std::unique_ptr<DisconnectWatch::Registration> DisconnectWatch::watch(const ConnectionAddress& address) {
  auto entry = std::make_shared<Registration::Entry>();
  entry->fd = find_socket(address);
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.push_front(entry);
  return std::unique_ptr<Registration>(new Registration(*this, entries_.begin()));
}

DisconnectWatch::Registration::~Registration() {
  std::lock_guard<std::mutex> lock(owner_.mutex_);
  owner_.entries_.erase(it_);
}

void DisconnectWatch::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    // The registration holds the mutex while it unregisters, so a polled
    // descriptor is still the request's own (the handler is still running).
    for (const auto& entry : entries_)
      if (entry->fd >= 0 && !entry->gone && closed(entry->fd)) entry->gone = true;
    stop_cv_.wait_for(lock, kPollInterval);
  }
}

}  // namespace mobilellm::server
