#pragma once

// How dengine's async calls complete: an Asio completion token whose signature is
// void(Result<T>) (DESIGN §4), and the rendezvous that turns an async call into a blocking one.

#include <condition_variable>
#include <mutex>
#include <optional>
#include <utility>

#include <asio/associated_executor.hpp>
#include <asio/dispatch.hpp>
#include <asio/execution.hpp>

#include "dengine/status.h"
#include "dengine/unique_function.h"

namespace dengine::detail {

// Runs the handler on its associated executor (inline for a plain callback), keeping that
// executor's work alive until then.
template <typename T, typename Handler>
UniqueFunction<void(Result<T>)> make_completion(Handler handler) {
  auto work = asio::prefer(asio::get_associated_executor(handler),
                           asio::execution::outstanding_work.tracked);
  return [handler = std::move(handler), work = std::move(work)](Result<T> result) mutable {
    asio::dispatch(work, [handler = std::move(handler), result = std::move(result)]() mutable {
      std::move(handler)(std::move(result));
    });
  };
}

// A blocking call's rendezvous with its completion.
template <typename T>
class Blocking {
 public:
  UniqueFunction<void(Result<T>)> completion() {
    return [this](Result<T> result) {
      std::lock_guard lock(mutex_);
      result_.emplace(std::move(result));
      done_.notify_one();
    };
  }
  Result<T> wait() {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return result_.has_value(); });
    return std::move(*result_);
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_;
  std::optional<Result<T>> result_;
};

}  // namespace dengine::detail
