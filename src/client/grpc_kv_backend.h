#pragma once

// KvClient's backend over etcd's v3 gRPC API (KV, Lease, Watch services), for RemoteClient.
// Unary calls use gRPC's callback API, each with a deadline; a worker thread dials endpoints,
// waits out watch retries and drives the automatic keep-alives.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <grpcpp/client_context.h>

#include "client/endpoints.h"
#include "dengine/kv_client.h"
#include "dengine/remote_client.h"
#include "kv_client/keep_alives.h"

namespace dengine::client {

class RemoteWatch;

// Whether a call may be sent again after it failed without an answer.
enum class Retry : uint8_t {
  kOnAnotherEndpoint,  // a read: no harm in asking twice
  kNever,              // a write: once sent, its outcome is unknown without an answer
};

class GrpcKvBackend final : public detail::KvBackend {
 public:
  GrpcKvBackend(std::unique_ptr<Endpoints> endpoints, RemoteClientOptions options);
  ~GrpcKvBackend() override;

  void submit_write(KvWrite request, UniqueFunction<void(Result<KvResponse>)> done) override;
  void submit_range(RangeRequest request, Read consistency,
                    UniqueFunction<void(Result<RangeResponse>)> done) override;
  void submit_read_txn(TxnRequest request, Read consistency,
                       UniqueFunction<void(Result<TxnResponse>)> done) override;
  void submit_lease_renew(LeaseId id,
                          UniqueFunction<void(Result<LeaseKeepAliveResponse>)> done) override;
  void submit_lease_time_to_live(
      LeaseId id, bool with_keys,
      UniqueFunction<void(Result<LeaseTimeToLiveResponse>)> done) override;
  Result<std::vector<LeaseInfo>> lease_list() override;
  void submit_lease_list(UniqueFunction<void(Result<std::vector<LeaseInfo>>)> done) override;
  std::shared_ptr<detail::KeepAliveTicket> start_keep_alive(LeaseId id) override;
  std::shared_ptr<detail::WatchChannel> open_watch(std::string key, std::string range_end,
                                                   WatchOptions options) override;

  Endpoints& endpoints() { return *endpoints_; }
  const RemoteClientOptions& options() const { return options_; }
  asio::io_context& worker() { return worker_; }
  // Whether the client is being destroyed (no reconnects then).
  [[nodiscard]] bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  // A watch's stream began or ended: the destructor waits for every stream to end.
  void stream_started();
  void stream_ended();

  // One unary call: `send` starts it on a member (gRPC's callback API); `done` gets the wire
  // response or the Status its error stands for. Dials first when the member in use is not
  // connected; fails over as `retry` allows.
  template <typename WireResponse>
  using Send = std::function<void(Member&, grpc::ClientContext*, WireResponse*,
                                  std::function<void(grpc::Status)>)>;
  template <typename WireResponse>
  void call(Retry retry, Send<WireResponse> send, UniqueFunction<void(Result<WireResponse>)> done);

 private:
  template <typename WireResponse>
  struct Call;
  template <typename WireResponse>
  void attempt(std::shared_ptr<Call<WireResponse>> call);
  template <typename WireResponse>
  void send_to(std::shared_ptr<Call<WireResponse>> call, size_t index);
  template <typename WireResponse>
  void finish(std::shared_ptr<Call<WireResponse>> call, size_t index, const grpc::Status& status);

  void schedule_keep_alives();

  std::unique_ptr<Endpoints> endpoints_;
  const RemoteClientOptions options_;
  std::atomic<bool> stopping_{false};

  asio::io_context worker_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{worker_.get_executor()};
  asio::steady_timer keep_alive_timer_{worker_};
  kv_client::KeepAlives keep_alives_;
  kv_client::KeepAlives::Renew renew_;

  std::mutex watches_mutex_;
  std::condition_variable streams_done_;
  int64_t open_streams_ = 0;
  // Unary calls whose state (and ClientContext) is not destroyed yet: the backend waits for
  // them before it closes its channels, since a call's last owner is often gRPC's callback,
  // still running when the caller it woke destroys the client.
  int64_t open_calls_ = 0;

 public:
  void call_started();
  void call_ended();
  uint64_t next_watch_id_ = 1;
  std::map<uint64_t, std::weak_ptr<RemoteWatch>> watches_;

  std::thread worker_thread_;  // last: started once everything above exists
};

}  // namespace dengine::client
