#pragma once
// Notices clients that went away, and cancels every generation when the
// server shuts down. A background thread polls each registered request's
// httplib `is_connection_closed` and raises its flag, which the scheduler
// queue, the prompt prefill and the token loop all check.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

namespace mobilellm::server {

class ClientWatch {
 public:
  ClientWatch();
  ~ClientWatch();

  class Registration {
   public:
    ~Registration();
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    // True once the client is gone, the server shuts down or set() was called.
    const std::atomic<bool>& gone() const { return entry_->gone; }
    void set() { entry_->gone = true; }

   private:
    friend class ClientWatch;
    struct Entry {
      std::function<bool()> closed;
      std::atomic<bool> gone{false};
    };
    Registration(ClientWatch& owner, std::list<std::shared_ptr<Entry>>::iterator it)
        : owner_(owner), it_(it), entry_(*it) {}
    ClientWatch& owner_;
    std::list<std::shared_ptr<Entry>>::iterator it_;
    std::shared_ptr<Entry> entry_;
  };

  // Watches one request's connection until the registration is destroyed.
  std::unique_ptr<Registration> watch(std::function<bool()> connection_closed);
  // Shutdown: raises every flag, of the requests running now and of any registered later.
  void cancel_all();
  bool shutting_down() const { return shutting_down_.load(); }

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::atomic<bool> shutting_down_{false};
  std::list<std::shared_ptr<Registration::Entry>> entries_;
  std::thread thread_;
};

}  // namespace mobilellm::server
