#pragma once

// How dengine's async calls complete: an Asio completion token whose signature is
// void(Result<T>) (docs/architecture.md §4), and the rendezvous that turns an async call into a
// blocking one.

#include <condition_variable>
#include <memory>
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

// A blocking call's rendezvous with its completion. The completion owns a share of the state,
// so it can wake the waiter after releasing the lock (the waiter may return, and the Blocking
// go, as soon as the lock is free): a waiter woken under the lock would find it taken and
// sleep once more, a second wake-up on the path of every blocking call.
template <typename T>
class Blocking {
 public:
  UniqueFunction<void(Result<T>)> completion() {
    return [state = state_](Result<T> result) {
      {
        std::lock_guard lock(state->mutex);
        state->result.emplace(std::move(result));
      }
      state->done.notify_one();
    };
  }
  Result<T> wait() {
    std::unique_lock lock(state_->mutex);
    state_->done.wait(lock, [this] { return state_->result.has_value(); });
    return std::move(*state_->result);
  }

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable done;
    std::optional<Result<T>> result;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace dengine::detail
