#pragma once

// KvClient: the C++ client of an engine's key-value store, with etcd's data model and
// semantics (revisions, leases, txns; see dengine/kv_types.h).
//
// Every call has a blocking form returning Result<T> and an async form taking an Asio
// completion token whose signature is void(Result<T>): a callback, asio::use_future or
// asio::use_awaitable all work, and no exception crosses the API (DESIGN §4). A callback runs
// on one of the engine's worker threads, or on the executor associated with it: keep it short
// or hand the work to your own executor.

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/dispatch.hpp>
#include <asio/execution.hpp>

#include "dengine/kv_types.h"
#include "dengine/state_machine.h"
#include "dengine/status.h"
#include "dengine/unique_function.h"

namespace dengine {

// How fresh a read must be.
enum class Read : uint8_t {
  // Reflects every write acknowledged before the call (ReadIndex, thesis §6.4). Served by
  // followers too, after one round to the leader.
  Linearizable,
  // As Linearizable, from the leader's lease without a round trip when it holds one
  // (thesis §6.4.1); relies on bounded clock drift.
  Lease,
  // This node's state as it is, with no round trip: may be behind the leader.
  Eventual,
};

struct ReadOptions {
  Read consistency = Read::Linearizable;
};

struct GetOptions {
  Read consistency = Read::Linearizable;
  int64_t revision = 0;  // <= 0: the latest
};

struct PutOptions {
  LeaseId lease = kNoLease;
  bool prev_kv = false;
};

// The range_end that makes [prefix, range_end) hold exactly the keys starting with `prefix`
// (etcd's clientv3.GetPrefixRangeEnd); "\0" (every key) for an empty or all-0xff prefix.
inline std::string prefix_range_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

// Every command that goes through the log.
using KvWrite = std::variant<PutRequest, DeleteRangeRequest, TxnRequest, CompactionRequest,
                             LeaseGrantRequest, LeaseRevokeRequest>;

namespace detail {

// What a KvClient talks to: an engine in this process (or, later, a remote server).
class KvBackend {
 public:
  virtual ~KvBackend() = default;
  virtual void submit_write(KvWrite request, UniqueFunction<void(Result<KvResponse>)> done) = 0;
  virtual void submit_range(RangeRequest request, Read consistency,
                            UniqueFunction<void(Result<RangeResponse>)> done) = 0;
  virtual void submit_read_txn(TxnRequest request, Read consistency,
                               UniqueFunction<void(Result<TxnResponse>)> done) = 0;
};

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

template <typename Response>
Result<Response> response_as(Result<KvResponse> result) {
  if (!result) return result.status();
  if (auto* response = std::get_if<Response>(&*result)) return std::move(*response);
  return Status::internal("kv: the state machine answered with an unexpected response type");
}

}  // namespace detail

class KvClient {
 public:
  explicit KvClient(detail::KvBackend& backend) : backend_(&backend) {}

  // ---- blocking ----
  Result<PutResponse> put(std::string key, std::string value, PutOptions options = {}) {
    return wait_write<PutResponse>(put_request(std::move(key), std::move(value), options));
  }
  // The key's current (or `options.revision`'s) value; nullopt when it does not exist.
  Result<std::optional<KeyValue>> get(std::string key, GetOptions options = {});
  Result<RangeResponse> range(RangeRequest request, ReadOptions options = {}) {
    detail::Blocking<RangeResponse> blocking;
    backend_->submit_range(std::move(request), options.consistency, blocking.completion());
    return blocking.wait();
  }
  // Every key starting with `prefix`, in key order.
  Result<RangeResponse> range_prefix(std::string prefix, ReadOptions options = {}) {
    RangeRequest request;
    request.range_end = prefix_range_end(prefix);
    request.key = std::move(prefix);
    return range(std::move(request), options);
  }
  Result<DeleteRangeResponse> delete_range(DeleteRangeRequest request) {
    return wait_write<DeleteRangeResponse>(std::move(request));
  }
  Result<DeleteRangeResponse> erase(std::string key) {
    DeleteRangeRequest request;
    request.key = std::move(key);
    return delete_range(std::move(request));
  }
  // All compares true: the success ops, else the failure ops; one revision, atomically. A txn
  // that only reads is served without the log at the given consistency.
  Result<TxnResponse> txn(TxnRequest request, ReadOptions options = {});
  // Sets `key` to `desired` only if its value is `expected` (or, with nullopt, only if it does
  // not exist). Returns whether it did.
  Result<bool> compare_and_swap(std::string key, std::optional<std::string> expected,
                                std::string desired);
  // Forgets the history before `revision` (etcd's compaction).
  Result<CompactionResponse> compact(int64_t revision) {
    return wait_write<CompactionResponse>(CompactionRequest{revision});
  }

  // ---- async: token signature void(Result<T>) ----
  template <typename Token>
  auto async_put(std::string key, std::string value, PutOptions options, Token&& token) {
    return async_write<PutResponse>(put_request(std::move(key), std::move(value), options),
                                    std::forward<Token>(token));
  }
  template <typename Token>
  auto async_range(RangeRequest request, ReadOptions options, Token&& token) {
    return asio::async_initiate<Token, void(Result<RangeResponse>)>(
        [backend = backend_](auto handler, RangeRequest range, Read consistency) {
          backend->submit_range(std::move(range), consistency,
                                detail::make_completion<RangeResponse>(std::move(handler)));
        },
        token, std::move(request), options.consistency);
  }
  template <typename Token>
  auto async_delete_range(DeleteRangeRequest request, Token&& token) {
    return async_write<DeleteRangeResponse>(std::move(request), std::forward<Token>(token));
  }
  // Txns with writes only (read-only txns: txn()).
  template <typename Token>
  auto async_txn(TxnRequest request, Token&& token) {
    return async_write<TxnResponse>(std::move(request), std::forward<Token>(token));
  }
  template <typename Token>
  auto async_compact(int64_t revision, Token&& token) {
    return async_write<CompactionResponse>(CompactionRequest{revision}, std::forward<Token>(token));
  }

 protected:
  template <typename Response>
  Result<Response> wait_write(KvWrite request) {
    detail::Blocking<KvResponse> blocking;
    backend_->submit_write(std::move(request), blocking.completion());
    return detail::response_as<Response>(blocking.wait());
  }

  template <typename Response, typename Token>
  auto async_write(KvWrite request, Token&& token) {
    return asio::async_initiate<Token, void(Result<Response>)>(
        [backend = backend_](auto handler, KvWrite write) {
          backend->submit_write(std::move(write),
                                [done = detail::make_completion<Response>(std::move(handler))](
                                    Result<KvResponse> result) mutable {
                                  done(detail::response_as<Response>(std::move(result)));
                                });
        },
        token, std::move(request));
  }

  static PutRequest put_request(std::string key, std::string value, const PutOptions& options) {
    PutRequest request;
    request.key = std::move(key);
    request.value = std::move(value);
    request.lease = options.lease;
    request.prev_kv = options.prev_kv;
    return request;
  }

  detail::KvBackend* backend_;
};

}  // namespace dengine
