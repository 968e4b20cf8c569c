#include "client/grpc_kv_backend.h"

#include <algorithm>
#include <utility>
#include <variant>

#include <asio/post.hpp>

#include "api/etcd_status.h"
#include "client/client_codec.h"
#include "client/remote_watch.h"

namespace dengine::client {
namespace {

using Clock = std::chrono::system_clock;

bool serializable(Read consistency) {
  return consistency == Read::Eventual;
}

// Whether an error is the server's own answer, so that the request certainly did nothing more
// than that answer says (a refusal is never applied).
bool definite_refusal(const grpc::Status& wire, const Status& status) {
  if (status.detail() != ErrorDetail::kNone) return true;
  // etcd refuses these before proposing anything.
  if (status.code() == StatusCode::kNotLeader) return true;
  switch (wire.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::UNIMPLEMENTED: return true;
    default: return false;
  }
}

// Worth asking another member: this one is unreachable, or has no leader.
bool ask_elsewhere(const grpc::Status& wire, const Status& status) {
  return wire.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.code() == StatusCode::kNotLeader;
}

}  // namespace

template <typename WireResponse>
struct GrpcKvBackend::Call {
  Retry retry = Retry::kNever;
  Send<WireResponse> send;
  UniqueFunction<void(Result<WireResponse>)> done;
  Clock::time_point deadline;
  size_t attempts = 0;
  std::unique_ptr<grpc::ClientContext> context;
  WireResponse response;
  GrpcKvBackend* owner = nullptr;

  ~Call() {
    context.reset();  // before the owner may go: it closes the channels
    if (owner != nullptr) owner->call_ended();
  }
};

GrpcKvBackend::GrpcKvBackend(std::unique_ptr<Endpoints> endpoints, RemoteClientOptions options)
    : endpoints_(std::move(endpoints)), options_(options) {
  keep_alives_.set_retry_interval(100'000'000);
  renew_ = [this](LeaseId id, kv_client::KeepAlives::RenewDone done) {
    // Already on the worker thread: renew here.
    submit_lease_renew(id, std::move(done));
  };
  worker_thread_ = std::thread([this] { worker_.run(); });
  schedule_keep_alives();
}

GrpcKvBackend::~GrpcKvBackend() {
  stopping_.store(true, std::memory_order_release);
  keep_alives_.stop(Status::unavailable("remote client: closed"));
  std::vector<std::shared_ptr<RemoteWatch>> watches;
  {
    std::lock_guard lock(watches_mutex_);
    for (auto& [id, watch] : watches_) {
      if (auto open = watch.lock()) watches.push_back(std::move(open));
    }
  }
  for (auto& watch : watches) watch->shut(Status::unavailable("remote client: closed"));
  {
    std::unique_lock lock(watches_mutex_);
    streams_done_.wait(lock, [this] { return open_streams_ == 0 && open_calls_ == 0; });
  }
  asio::post(worker_, [this] { keep_alive_timer_.cancel(); });
  work_.reset();
  worker_thread_.join();
}

void GrpcKvBackend::call_started() {
  std::lock_guard lock(watches_mutex_);
  ++open_calls_;
}

// Notified under the lock: once it is released the destructor may run, cv and all.
void GrpcKvBackend::call_ended() {
  std::lock_guard lock(watches_mutex_);
  --open_calls_;
  streams_done_.notify_all();
}

void GrpcKvBackend::stream_started() {
  std::lock_guard lock(watches_mutex_);
  ++open_streams_;
}

void GrpcKvBackend::stream_ended() {
  std::lock_guard lock(watches_mutex_);
  --open_streams_;
  streams_done_.notify_all();
}

template <typename WireResponse>
void GrpcKvBackend::call(Retry retry, Send<WireResponse> send,
                         UniqueFunction<void(Result<WireResponse>)> done) {
  auto state = std::make_shared<Call<WireResponse>>();
  call_started();
  state->owner = this;
  state->retry = retry;
  state->send = std::move(send);
  state->done = std::move(done);
  state->deadline = Clock::now() + options_.request_timeout;
  attempt(std::move(state));
}

template <typename WireResponse>
void GrpcKvBackend::attempt(std::shared_ptr<Call<WireResponse>> call) {
  const size_t ready = endpoints_->ready();
  if (ready < endpoints_->size()) return send_to(std::move(call), ready);
  // Not connected: dial on the worker thread, never on the caller's. Nothing was sent yet, so
  // any endpoint will do, for a write too.
  asio::post(worker_, [this, call = std::move(call)]() mutable {
    const Clock::time_point dial_deadline =
        std::min(call->deadline, Clock::now() + options_.dial_timeout);
    Result<size_t> dialled = endpoints_->dial(dial_deadline);
    if (!dialled) return call->done(dialled.status());
    send_to(std::move(call), *dialled);
  });
}

template <typename WireResponse>
void GrpcKvBackend::send_to(std::shared_ptr<Call<WireResponse>> call, size_t index) {
  ++call->attempts;
  call->context = std::make_unique<grpc::ClientContext>();
  call->context->set_deadline(call->deadline);
  call->response = WireResponse();
  Member& member = endpoints_->at(index);
  grpc::ClientContext* context = call->context.get();
  WireResponse* response = &call->response;
  call->send(member, context, response, [this, call, index](const grpc::Status& status) mutable {
    finish(std::move(call), index, status);
  });
}

template <typename WireResponse>
void GrpcKvBackend::finish(std::shared_ptr<Call<WireResponse>> call, size_t index,
                           const grpc::Status& wire) {
  if (wire.ok()) return call->done(std::move(call->response));
  const Status status = api::from_grpc_status(wire);
  const bool elsewhere = ask_elsewhere(wire, status);
  if (elsewhere) endpoints_->failed(index);
  const bool time_left = Clock::now() < call->deadline;
  const bool may_resend =
      call->retry == Retry::kOnAnotherEndpoint || definite_refusal(wire, status);
  if (elsewhere && may_resend && time_left && call->attempts < 2 * endpoints_->size()) {
    return attempt(std::move(call));
  }
  if (call->retry == Retry::kNever && !definite_refusal(wire, status)) {
    return call->done(Status::unknown_outcome(
        "remote client: a write to " + endpoints_->at(index).address +
        " got no answer, it may or may not have been applied (" + wire.error_message() + ")"));
  }
  if (wire.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return call->done(Status::timed_out("remote client: no answer from " +
                                        endpoints_->at(index).address + " before the deadline"));
  }
  call->done(status);
}

namespace {

// Adapts a KV stub call to Send.
#define DENGINE_CLIENT_SEND(stub, rpc, wire_request)                                          \
  [request = std::move(wire_request)](Member& member, grpc::ClientContext* context,           \
                                      auto* response, std::function<void(grpc::Status)> cb) { \
    member.stub->async()->rpc(context, &request, response, std::move(cb));                    \
  }

}  // namespace

void GrpcKvBackend::submit_write(KvWrite request, UniqueFunction<void(Result<KvResponse>)> done) {
  std::visit(
      [&](auto& write) {
        using T = std::decay_t<decltype(write)>;
        if constexpr (std::is_same_v<T, PutRequest>) {
          etcdserverpb::PutRequest wire;
          to_wire(write, &wire);
          call<etcdserverpb::PutResponse>(
              Retry::kNever, DENGINE_CLIENT_SEND(kv, Put, wire),
              [done = std::move(done)](Result<etcdserverpb::PutResponse> answer) mutable {
                if (!answer) return done(answer.status());
                done(KvResponse(from_wire(*answer)));
              });
        } else if constexpr (std::is_same_v<T, DeleteRangeRequest>) {
          etcdserverpb::DeleteRangeRequest wire;
          to_wire(write, &wire);
          call<etcdserverpb::DeleteRangeResponse>(
              Retry::kNever, DENGINE_CLIENT_SEND(kv, DeleteRange, wire),
              [done = std::move(done)](Result<etcdserverpb::DeleteRangeResponse> answer) mutable {
                if (!answer) return done(answer.status());
                done(KvResponse(from_wire(*answer)));
              });
        } else if constexpr (std::is_same_v<T, TxnRequest>) {
          etcdserverpb::TxnRequest wire;
          to_wire(write, &wire);
          call<etcdserverpb::TxnResponse>(
              Retry::kNever, DENGINE_CLIENT_SEND(kv, Txn, wire),
              [done = std::move(done)](Result<etcdserverpb::TxnResponse> answer) mutable {
                if (!answer) return done(answer.status());
                done(KvResponse(from_wire(*answer)));
              });
        } else if constexpr (std::is_same_v<T, CompactionRequest>) {
          etcdserverpb::CompactionRequest wire;
          wire.set_revision(write.revision);
          call<etcdserverpb::CompactionResponse>(
              Retry::kNever, DENGINE_CLIENT_SEND(kv, Compact, wire),
              [done = std::move(done)](Result<etcdserverpb::CompactionResponse> answer) mutable {
                if (!answer) return done(answer.status());
                done(KvResponse(CompactionResponse{answer->header().revision()}));
              });
        } else if constexpr (std::is_same_v<T, LeaseGrantRequest>) {
          etcdserverpb::LeaseGrantRequest wire;
          wire.set_id(write.id);
          wire.set_ttl(write.ttl_seconds);
          call<etcdserverpb::LeaseGrantResponse>(
              Retry::kNever, DENGINE_CLIENT_SEND(lease, LeaseGrant, wire),
              [done = std::move(done)](Result<etcdserverpb::LeaseGrantResponse> answer) mutable {
                if (!answer) return done(answer.status());
                done(KvResponse(
                    LeaseGrantResponse{answer->header().revision(), answer->id(), answer->ttl()}));
              });
        } else {
          static_assert(std::is_same_v<T, LeaseRevokeRequest>);
          etcdserverpb::LeaseRevokeRequest wire;
          wire.set_id(write.id);
          call<etcdserverpb::LeaseRevokeResponse>(
              Retry::kNever, DENGINE_CLIENT_SEND(lease, LeaseRevoke, wire),
              [done = std::move(done)](Result<etcdserverpb::LeaseRevokeResponse> answer) mutable {
                if (!answer) return done(answer.status());
                done(KvResponse(LeaseRevokeResponse{answer->header().revision()}));
              });
        }
      },
      request);
}

void GrpcKvBackend::submit_range(RangeRequest request, Read consistency,
                                 UniqueFunction<void(Result<RangeResponse>)> done) {
  etcdserverpb::RangeRequest wire;
  to_wire(request, &wire);
  wire.set_serializable(serializable(consistency));
  call<etcdserverpb::RangeResponse>(
      Retry::kOnAnotherEndpoint, DENGINE_CLIENT_SEND(kv, Range, wire),
      [done = std::move(done)](Result<etcdserverpb::RangeResponse> answer) mutable {
        if (!answer) return done(answer.status());
        done(from_wire(*answer));
      });
}

void GrpcKvBackend::submit_read_txn(TxnRequest request, Read consistency,
                                    UniqueFunction<void(Result<TxnResponse>)> done) {
  // etcd serves a read-only txn serializably only when every range in it asks to be.
  etcdserverpb::TxnRequest wire;
  to_wire(request, &wire);
  if (serializable(consistency)) {
    std::function<void(etcdserverpb::TxnRequest&)> serial = [&](etcdserverpb::TxnRequest& txn) {
      for (auto* ops : {txn.mutable_success(), txn.mutable_failure()}) {
        for (auto& op : *ops) {
          if (op.has_request_range()) op.mutable_request_range()->set_serializable(true);
          if (op.has_request_txn()) serial(*op.mutable_request_txn());
        }
      }
    };
    serial(wire);
  }
  call<etcdserverpb::TxnResponse>(
      Retry::kOnAnotherEndpoint, DENGINE_CLIENT_SEND(kv, Txn, wire),
      [done = std::move(done)](Result<etcdserverpb::TxnResponse> answer) mutable {
        if (!answer) return done(answer.status());
        done(from_wire(*answer));
      });
}

void GrpcKvBackend::submit_lease_renew(LeaseId id,
                                       UniqueFunction<void(Result<LeaseKeepAliveResponse>)> done) {
  // etcd renews over a stream only: one request and its answer, on the worker thread (which
  // waits for it, the deadline at most). A renewal is safe to send again elsewhere.
  asio::post(worker_, [this, id, done = std::move(done)]() mutable {
    const Clock::time_point deadline = Clock::now() + options_.request_timeout;
    Status last = Status::unavailable("remote client: no endpoint to renew the lease on");
    for (size_t attempt = 0; attempt < endpoints_->size() && Clock::now() < deadline; ++attempt) {
      Result<size_t> index =
          endpoints_->dial(std::min(deadline, Clock::now() + options_.dial_timeout));
      if (!index) return done(index.status());
      grpc::ClientContext context;
      context.set_deadline(deadline);
      auto stream = endpoints_->at(*index).lease->LeaseKeepAlive(&context);
      etcdserverpb::LeaseKeepAliveRequest request;
      request.set_id(id);
      etcdserverpb::LeaseKeepAliveResponse response;
      const bool answered = stream->Write(request) && stream->Read(&response);
      stream->WritesDone();
      const grpc::Status finished = stream->Finish();
      if (answered) {
        // etcd answers an unknown lease with TTL 0 (or below), not an error.
        if (response.ttl() <= 0) return done(Status::of(ErrorDetail::kLeaseNotFound));
        return done(LeaseKeepAliveResponse{response.id(), response.ttl()});
      }
      last = finished.ok() ? Status::unavailable("remote client: the keep-alive stream ended")
                           : api::from_grpc_status(finished);
      if (finished.error_code() != grpc::StatusCode::UNAVAILABLE) break;
      endpoints_->failed(*index);
    }
    done(std::move(last));
  });
}

void GrpcKvBackend::submit_lease_time_to_live(
    LeaseId id, bool with_keys, UniqueFunction<void(Result<LeaseTimeToLiveResponse>)> done) {
  etcdserverpb::LeaseTimeToLiveRequest wire;
  wire.set_id(id);
  wire.set_keys(with_keys);
  call<etcdserverpb::LeaseTimeToLiveResponse>(
      Retry::kOnAnotherEndpoint, DENGINE_CLIENT_SEND(lease, LeaseTimeToLive, wire),
      [done = std::move(done)](Result<etcdserverpb::LeaseTimeToLiveResponse> answer) mutable {
        if (!answer) return done(answer.status());
        // etcd answers TTL -1 for a lease that does not exist; KvClient says kLeaseNotFound.
        if (answer->ttl() < 0) return done(Status::of(ErrorDetail::kLeaseNotFound));
        LeaseTimeToLiveResponse response;
        response.id = answer->id();
        response.ttl_seconds = answer->ttl();
        response.granted_ttl_seconds = answer->grantedttl();
        for (const std::string& key : answer->keys()) response.keys.push_back(key);
        std::sort(response.keys.begin(), response.keys.end());
        done(std::move(response));
      });
}

void GrpcKvBackend::submit_lease_list(UniqueFunction<void(Result<std::vector<LeaseInfo>>)> done) {
  etcdserverpb::LeaseLeasesRequest wire;
  call<etcdserverpb::LeaseLeasesResponse>(
      Retry::kOnAnotherEndpoint, DENGINE_CLIENT_SEND(lease, LeaseLeases, wire),
      [done = std::move(done)](Result<etcdserverpb::LeaseLeasesResponse> answer) mutable {
        if (!answer) return done(answer.status());
        // etcd's list holds ids only.
        std::vector<LeaseInfo> leases;
        for (const auto& lease : answer->leases()) {
          LeaseInfo info;
          info.id = lease.id();
          leases.push_back(std::move(info));
        }
        std::sort(leases.begin(), leases.end(),
                  [](const LeaseInfo& a, const LeaseInfo& b) { return a.id < b.id; });
        done(std::move(leases));
      });
}

Result<std::vector<LeaseInfo>> GrpcKvBackend::lease_list() {
  detail::Blocking<std::vector<LeaseInfo>> blocking;
  submit_lease_list(blocking.completion());
  return blocking.wait();
}

std::shared_ptr<detail::KeepAliveTicket> GrpcKvBackend::start_keep_alive(LeaseId id) {
  auto ticket = std::make_shared<kv_client::KeepAliveTicketImpl>(id);
  // The first renewal now, as etcd's client sends its first keep-alive at once.
  const auto now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                             std::chrono::steady_clock::now().time_since_epoch())
                                             .count());
  keep_alives_.add(ticket, now);
  return ticket;
}

void GrpcKvBackend::schedule_keep_alives() {
  keep_alive_timer_.expires_after(std::chrono::milliseconds(100));
  keep_alive_timer_.async_wait([this](const std::error_code& error) {
    if (error || stopping()) return;
    const auto now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                               std::chrono::steady_clock::now().time_since_epoch())
                                               .count());
    keep_alives_.run(now, renew_);
    schedule_keep_alives();
  });
}

std::shared_ptr<detail::WatchChannel> GrpcKvBackend::open_watch(std::string key,
                                                                std::string range_end,
                                                                WatchOptions options) {
  uint64_t id = 0;
  {
    std::lock_guard lock(watches_mutex_);
    id = next_watch_id_++;
  }
  auto watch = RemoteWatch::open(*this, id, std::move(key), std::move(range_end), options);
  std::lock_guard lock(watches_mutex_);
  std::erase_if(watches_, [](const auto& entry) { return entry.second.expired(); });
  watches_.emplace(id, watch);
  return watch->channel();
}

}  // namespace dengine::client
