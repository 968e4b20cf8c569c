#pragma once

// KvClient: the C++ client of an engine's key-value store, with etcd's data model and
// semantics (revisions, leases, txns; see dengine/kv_types.h).
//
// Every call has a blocking form returning Result<T> and an async form taking an Asio
// completion token whose signature is void(Result<T>): a callback, asio::use_future or
// asio::use_awaitable all work, and no exception crosses the API (docs/architecture.md §4). A
// callback runs on one of the engine's worker threads, or on the executor associated with it: keep
// it short or hand the work to your own executor.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <asio/async_result.hpp>

#include "dengine/completion.h"
#include "dengine/kv_types.h"
#include "dengine/state_machine.h"
#include "dengine/status.h"
#include "dengine/unique_function.h"
#include "dengine/watch.h"

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
  // Sugar for a lease: when positive, a lease of this TTL is granted and the key attached to
  // it, so the key goes when the TTL passes (nobody keeps that lease alive). Not with `lease`.
  std::chrono::seconds ttl{0};
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

// The engine's side of one automatic keep-alive.
class KeepAliveTicket {
 public:
  virtual ~KeepAliveTicket() = default;
  virtual void stop() = 0;
  // OK while the lease is kept alive; why not once it was lost.
  [[nodiscard]] virtual Status status() const = 0;
  [[nodiscard]] virtual int64_t renewals() const = 0;
};

// What a KvClient talks to: an engine in this process (or, later, a remote server).
class KvBackend {
 public:
  virtual ~KvBackend() = default;
  virtual void submit_write(KvWrite request, UniqueFunction<void(Result<KvResponse>)> done) = 0;
  virtual void submit_range(RangeRequest request, Read consistency,
                            UniqueFunction<void(Result<RangeResponse>)> done) = 0;
  virtual void submit_read_txn(TxnRequest request, Read consistency,
                               UniqueFunction<void(Result<TxnResponse>)> done) = 0;
  // Blocking reads: these wait for the async forms; a backend may serve them on the caller's
  // thread instead.
  virtual Result<RangeResponse> range(RangeRequest request, Read consistency) {
    Blocking<RangeResponse> blocking;
    submit_range(std::move(request), consistency, blocking.completion());
    return blocking.wait();
  }
  virtual Result<TxnResponse> read_txn(TxnRequest request, Read consistency) {
    Blocking<TxnResponse> blocking;
    submit_read_txn(std::move(request), consistency, blocking.completion());
    return blocking.wait();
  }
  virtual void submit_lease_renew(LeaseId id,
                                  UniqueFunction<void(Result<LeaseKeepAliveResponse>)> done) = 0;
  virtual void submit_lease_time_to_live(
      LeaseId id, bool with_keys, UniqueFunction<void(Result<LeaseTimeToLiveResponse>)> done) = 0;
  virtual Result<std::vector<LeaseInfo>> lease_list() = 0;
  // The async form; a backend whose list is a local read may answer on the caller's thread.
  virtual void submit_lease_list(UniqueFunction<void(Result<std::vector<LeaseInfo>>)> done) {
    done(lease_list());
  }
  virtual std::shared_ptr<KeepAliveTicket> start_keep_alive(LeaseId id) = 0;
  virtual std::shared_ptr<WatchChannel> open_watch(std::string key, std::string range_end,
                                                   WatchOptions options) = 0;
};

template <typename Response>
Result<Response> response_as(Result<KvResponse> result) {
  if (!result) return result.status();
  if (auto* response = std::get_if<Response>(&*result)) return std::move(*response);
  return Status::internal("kv: the state machine answered with an unexpected response type");
}

}  // namespace detail

// Keeps a lease alive in the background (renewing it every third of its TTL) until stopped or
// destroyed, or until the lease is lost (revoked, or expired while no renewal got through).
class LeaseKeepAlive {
 public:
  LeaseKeepAlive(LeaseId id, std::shared_ptr<detail::KeepAliveTicket> ticket)
      : id_(id), ticket_(std::move(ticket)) {}
  ~LeaseKeepAlive() { stop(); }
  LeaseKeepAlive(LeaseKeepAlive&&) noexcept = default;
  LeaseKeepAlive& operator=(LeaseKeepAlive&& other) noexcept {
    if (this != &other) {
      stop();
      id_ = other.id_;
      ticket_ = std::move(other.ticket_);
    }
    return *this;
  }
  LeaseKeepAlive(const LeaseKeepAlive&) = delete;
  LeaseKeepAlive& operator=(const LeaseKeepAlive&) = delete;

  [[nodiscard]] LeaseId id() const { return id_; }
  // OK while the lease is kept alive; why not once it was lost (e.g. ErrorDetail::kLeaseNotFound).
  [[nodiscard]] Status status() const {
    return ticket_ ? ticket_->status() : Status::cancelled("keep-alive: stopped");
  }
  // Successful renewals so far.
  [[nodiscard]] int64_t renewals() const { return ticket_ ? ticket_->renewals() : 0; }
  // Stops renewing; the lease then expires after its TTL unless revoked first. Idempotent.
  void stop() {
    if (ticket_) ticket_->stop();
  }

 private:
  LeaseId id_;
  std::shared_ptr<detail::KeepAliveTicket> ticket_;
};

class KvClient {
 public:
  explicit KvClient(detail::KvBackend& backend) : backend_(&backend) {}

  // ---- blocking ----
  Result<PutResponse> put(std::string key, std::string value, PutOptions options = {});
  // The key's current (or `options.revision`'s) value; nullopt when it does not exist.
  Result<std::optional<KeyValue>> get(std::string key, GetOptions options = {});
  Result<RangeResponse> range(RangeRequest request, ReadOptions options = {}) {
    return backend_->range(std::move(request), options.consistency);
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

  // ---- leases (etcd's semantics; the TTL clock is kept by the leader) ----
  // A lease of `ttl` (raised to the minimum TTL, 2 s with default timing); `id` kNoLease lets
  // the engine choose one.
  Result<LeaseGrantResponse> grant(std::chrono::seconds ttl, LeaseId id = kNoLease) {
    return wait_write<LeaseGrantResponse>(LeaseGrantRequest{id, ttl.count()});
  }
  // Ends the lease and deletes its keys, in one revision.
  Result<LeaseRevokeResponse> revoke(LeaseId id) {
    return wait_write<LeaseRevokeResponse>(LeaseRevokeRequest{id});
  }
  // One renewal: the lease's TTL starts again now. kLeaseNotFound once it expired or was revoked.
  Result<LeaseKeepAliveResponse> keep_alive_once(LeaseId id) {
    detail::Blocking<LeaseKeepAliveResponse> blocking;
    backend_->submit_lease_renew(id, blocking.completion());
    return blocking.wait();
  }
  // Renews the lease in the background for as long as the handle lives.
  LeaseKeepAlive keep_alive(LeaseId id) { return {id, backend_->start_keep_alive(id)}; }
  // The lease's remaining TTL; kLeaseNotFound for a lease that does not exist.
  Result<LeaseTimeToLiveResponse> time_to_live(LeaseId id, bool with_keys = false) {
    detail::Blocking<LeaseTimeToLiveResponse> blocking;
    backend_->submit_lease_time_to_live(id, with_keys, blocking.completion());
    return blocking.wait();
  }
  // Every lease, in id order (keys omitted).
  Result<std::vector<LeaseInfo>> leases() { return backend_->lease_list(); }

  // ---- watches (see dengine/watch.h) ----
  Watch watch(std::string key, WatchOptions options = {}) {
    return Watch(backend_->open_watch(std::move(key), {}, options));
  }
  Watch watch_prefix(std::string prefix, WatchOptions options = {}) {
    std::string end = prefix_range_end(prefix);
    return Watch(backend_->open_watch(std::move(prefix), std::move(end), options));
  }
  // [key, range_end), with etcd's conventions for range_end ("\0": every key >= key).
  Watch watch_range(std::string key, std::string range_end, WatchOptions options = {}) {
    return Watch(backend_->open_watch(std::move(key), std::move(range_end), options));
  }

  // ---- async: token signature void(Result<T>) ----
  template <typename Token>
  auto async_put(std::string key, std::string value, PutOptions options, Token&& token) {
    return asio::async_initiate<Token, void(Result<PutResponse>)>(
        [backend = backend_](auto handler, PutRequest request, std::chrono::seconds ttl) {
          submit_put(*backend, std::move(request), ttl,
                     detail::make_completion<PutResponse>(std::move(handler)));
        },
        token, put_request(std::move(key), std::move(value), options), options.ttl);
  }
  // The whole etcd request (a lease, prev_kv, ignore_value, ignore_lease), as the etcd API
  // layer has it.
  template <typename Token>
  auto async_put(PutRequest request, Token&& token) {
    return async_write<PutResponse>(std::move(request), std::forward<Token>(token));
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
  // As get(): the key's value, nullopt when it does not exist.
  template <typename Token>
  auto async_get(std::string key, GetOptions options, Token&& token) {
    return asio::async_initiate<Token, void(Result<std::optional<KeyValue>>)>(
        [backend = backend_](auto handler, RangeRequest range, Read consistency) {
          backend->submit_range(
              std::move(range), consistency,
              [done = detail::make_completion<std::optional<KeyValue>>(std::move(handler))](
                  Result<RangeResponse> response) mutable { done(first_kv(std::move(response))); });
        },
        token, get_request(std::move(key), options), options.consistency);
  }
  template <typename Token>
  auto async_range_prefix(std::string prefix, ReadOptions options, Token&& token) {
    RangeRequest request;
    request.range_end = prefix_range_end(prefix);
    request.key = std::move(prefix);
    return async_range(std::move(request), options, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_delete_range(DeleteRangeRequest request, Token&& token) {
    return async_write<DeleteRangeResponse>(std::move(request), std::forward<Token>(token));
  }
  template <typename Token>
  auto async_erase(std::string key, Token&& token) {
    DeleteRangeRequest request;
    request.key = std::move(key);
    return async_delete_range(std::move(request), std::forward<Token>(token));
  }
  // As txn(): a txn that only reads is served without the log at `options.consistency`.
  template <typename Token>
  auto async_txn(TxnRequest request, ReadOptions options, Token&& token) {
    if (is_read_only(request)) {
      return async_read_txn(std::move(request), options, std::forward<Token>(token));
    }
    return async_write<TxnResponse>(std::move(request), std::forward<Token>(token));
  }
  // As compare_and_swap(): whether `key` was set.
  template <typename Token>
  auto async_compare_and_swap(std::string key, std::optional<std::string> expected,
                              std::string desired, Token&& token) {
    return asio::async_initiate<Token, void(Result<bool>)>(
        [backend = backend_](auto handler, TxnRequest txn) {
          backend->submit_write(
              std::move(txn),
              [done = detail::make_completion<bool>(std::move(handler))](
                  Result<KvResponse> result) mutable { done(swapped(std::move(result))); });
        },
        token, cas_request(std::move(key), std::move(expected), std::move(desired)));
  }
  // Txns with writes only (read-only txns: txn()).
  template <typename Token>
  auto async_txn(TxnRequest request, Token&& token) {
    return async_write<TxnResponse>(std::move(request), std::forward<Token>(token));
  }
  // Txns without writes (is_read_only): served at `options.consistency`, without the log.
  template <typename Token>
  auto async_read_txn(TxnRequest request, ReadOptions options, Token&& token) {
    return asio::async_initiate<Token, void(Result<TxnResponse>)>(
        [backend = backend_](auto handler, TxnRequest txn, Read consistency) {
          backend->submit_read_txn(std::move(txn), consistency,
                                   detail::make_completion<TxnResponse>(std::move(handler)));
        },
        token, std::move(request), options.consistency);
  }
  template <typename Token>
  auto async_compact(int64_t revision, Token&& token) {
    return async_write<CompactionResponse>(CompactionRequest{revision}, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_grant(std::chrono::seconds ttl, Token&& token) {
    return async_write<LeaseGrantResponse>(LeaseGrantRequest{kNoLease, ttl.count()},
                                           std::forward<Token>(token));
  }
  // With the id the caller chose (kNoLease: the engine chooses), as etcd's LeaseGrant.
  template <typename Token>
  auto async_grant(LeaseGrantRequest request, Token&& token) {
    return async_write<LeaseGrantResponse>(request, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_revoke(LeaseId id, Token&& token) {
    return async_write<LeaseRevokeResponse>(LeaseRevokeRequest{id}, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_leases(Token&& token) {
    return asio::async_initiate<Token, void(Result<std::vector<LeaseInfo>>)>(
        [backend = backend_](auto handler) {
          backend->submit_lease_list(
              detail::make_completion<std::vector<LeaseInfo>>(std::move(handler)));
        },
        token);
  }
  template <typename Token>
  auto async_keep_alive_once(LeaseId id, Token&& token) {
    return asio::async_initiate<Token, void(Result<LeaseKeepAliveResponse>)>(
        [backend = backend_](auto handler, LeaseId lease) {
          backend->submit_lease_renew(
              lease, detail::make_completion<LeaseKeepAliveResponse>(std::move(handler)));
        },
        token, id);
  }
  template <typename Token>
  auto async_time_to_live(LeaseId id, bool with_keys, Token&& token) {
    return asio::async_initiate<Token, void(Result<LeaseTimeToLiveResponse>)>(
        [backend = backend_](auto handler, LeaseId lease, bool keys) {
          backend->submit_lease_time_to_live(
              lease, keys, detail::make_completion<LeaseTimeToLiveResponse>(std::move(handler)));
        },
        token, id, with_keys);
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

  // A put, after granting its lease when `ttl` asks for one.
  static void submit_put(detail::KvBackend& backend, PutRequest request, std::chrono::seconds ttl,
                         UniqueFunction<void(Result<PutResponse>)> done);

  static RangeRequest get_request(std::string key, const GetOptions& options) {
    RangeRequest request;
    request.key = std::move(key);
    request.revision = options.revision;
    return request;
  }
  // A get's answer from its range's.
  static Result<std::optional<KeyValue>> first_kv(Result<RangeResponse> response);
  // compare_and_swap's txn, and whether it swapped.
  static TxnRequest cas_request(std::string key, std::optional<std::string> expected,
                                std::string desired);
  static Result<bool> swapped(Result<KvResponse> result);

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
