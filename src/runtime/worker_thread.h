#pragma once

// One thread running an Asio io_context until stopped: the WAL and apply workers' execution
// context. Work posted before stop() still runs; stop() returns once it has.

#include <optional>
#include <string>
#include <thread>
#include <utility>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <pthread.h>

namespace dengine::runtime {

inline void name_this_thread(const std::string& name) {
  (void)::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
}

class WorkerThread {
 public:
  // `name` shows in top, perf and gdb; Linux keeps its first 15 characters.
  explicit WorkerThread(std::string name)
      : work_(io_.get_executor()), thread_([this, name = std::move(name)] {
          name_this_thread(name);
          io_.run();
        }) {}
  ~WorkerThread() { stop(); }
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  template <typename Handler>
  void post(Handler&& handler) {
    asio::post(io_, std::forward<Handler>(handler));
  }

  // Runs what was posted, then joins the thread. Idempotent; not concurrently with itself.
  void stop() {
    if (!thread_.joinable()) return;
    work_.reset();
    thread_.join();
  }
  [[nodiscard]] bool running() const { return thread_.joinable(); }

 private:
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
};

}  // namespace dengine::runtime
