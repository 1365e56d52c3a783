#pragma once
// Notices clients that went away. cpp-httplib (Debian's 0.11) does not tell a
// handler that its connection closed, so the watcher finds the request's
// socket by its address pair and peeks at it: an orderly close or a reset
// reads as end of stream. A background thread polls every registered
// connection and raises its flag, which the scheduler queue, the prompt
// prefill and the token loop all check.
#include <atomic>
#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace mobilellm::server {

struct ConnectionAddress {
  std::string local_addr, remote_addr;
  int local_port = -1, remote_port = -1;
};

class DisconnectWatch {
 public:
  DisconnectWatch();
  ~DisconnectWatch();

  class Registration {
   public:
    ~Registration();
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    // True once the client is gone (or set() was called).
    const std::atomic<bool>& gone() const { return entry_->gone; }
    void set() { entry_->gone = true; }

   private:
    friend class DisconnectWatch;
    struct Entry {
      int fd = -1;  // -1: not found (then only set() raises the flag)
      std::atomic<bool> gone{false};
    };
    Registration(DisconnectWatch& owner, std::list<std::shared_ptr<Entry>>::iterator it) : owner_(owner), it_(it), entry_(*it) {}
    DisconnectWatch& owner_;
    std::list<std::shared_ptr<Entry>>::iterator it_;
    std::shared_ptr<Entry> entry_;
  };

  // Watches the connection of one request until the registration is destroyed.
  std::unique_ptr<Registration> watch(const ConnectionAddress& address);

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::list<std::shared_ptr<Registration::Entry>> entries_;
  std::thread thread_;
};

}  // namespace mobilellm::server
