#include "api/lease_service.h"

#include <chrono>
#include <utility>

#include "api/bidi_stream.h"
#include "api/etcd_status.h"
#include "dengine/embedded_engine.h"

namespace dengine::api {
namespace {

// Renewals answered but not yet written, per stream, before the stream stops reading more.
constexpr size_t kMaxQueuedRenewals = 1024;

bool is_lease_not_found(const Status& status) {
  return status.is(ErrorDetail::kLeaseNotFound);
}

// etcd's LeaseKeepAlive: each request renews one lease and is answered with its granted TTL,
// or TTL 0 when the lease is gone (the stream goes on); other failures end the stream.
class KeepAliveStream final
    : public BidiStream<etcdserverpb::LeaseKeepAliveRequest, etcdserverpb::LeaseKeepAliveResponse> {
 public:
  explicit KeepAliveStream(const MemberHeader& header)
      : BidiStream(kMaxQueuedRenewals), header_(header) {
    start();
  }

 private:
  void on_request(const etcdserverpb::LeaseKeepAliveRequest& request) override {
    const LeaseId id = request.id();
    // etcd fills the header before the renewal.
    etcdserverpb::LeaseKeepAliveResponse response;
    header_.fill(response.mutable_header());
    response.set_id(id);
    owe();
    header_.engine().client().async_keep_alive_once(
        id, [this, response = std::move(response)](Result<LeaseKeepAliveResponse> renewed) mutable {
          if (renewed) {
            response.set_ttl(renewed->ttl_seconds);
            send(std::move(response));
          } else if (is_lease_not_found(renewed.status())) {
            response.set_ttl(0);
            send(std::move(response));
          } else {
            finish_after_writes(to_grpc_status(renewed.status()));
          }
          repaid();
        });
  }

  const MemberHeader& header_;
};

}  // namespace

grpc::ServerUnaryReactor* LeaseService::LeaseGrant(grpc::CallbackServerContext* context,
                                                   const etcdserverpb::LeaseGrantRequest* request,
                                                   etcdserverpb::LeaseGrantResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (Status room = quota_.admit(BackendQuota::kLeaseCost); !room) {
    reactor->Finish(to_grpc_status(room));
    return reactor;
  }
  header_.engine().client().async_grant(
      LeaseGrantRequest{.id = request->id(), .ttl_seconds = request->ttl()},
      [this, reactor, response](Result<LeaseGrantResponse> granted) {
        if (!granted) return reactor->Finish(to_grpc_status(granted.status()));
        response->mutable_header()->set_revision(granted->revision);
        header_.fill(response->mutable_header());
        response->set_id(granted->id);
        response->set_ttl(granted->ttl_seconds);
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

grpc::ServerUnaryReactor* LeaseService::LeaseRevoke(grpc::CallbackServerContext* context,
                                                    const etcdserverpb::LeaseRevokeRequest* request,
                                                    etcdserverpb::LeaseRevokeResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  header_.engine().client().async_revoke(
      request->id(), [this, reactor, response](Result<LeaseRevokeResponse> revoked) {
        if (!revoked) return reactor->Finish(to_grpc_status(revoked.status()));
        response->mutable_header()->set_revision(revoked->revision);
        header_.fill(response->mutable_header());
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

grpc::ServerBidiReactor<etcdserverpb::LeaseKeepAliveRequest, etcdserverpb::LeaseKeepAliveResponse>*
LeaseService::LeaseKeepAlive(grpc::CallbackServerContext* /*context*/) {
  return new KeepAliveStream(header_);  // deletes itself when done (BidiStream)
}

grpc::ServerUnaryReactor* LeaseService::LeaseTimeToLive(
    grpc::CallbackServerContext* context, const etcdserverpb::LeaseTimeToLiveRequest* request,
    etcdserverpb::LeaseTimeToLiveResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const LeaseId id = request->id();
  header_.engine().client().async_time_to_live(
      id, request->keys(), [this, reactor, response, id](Result<LeaseTimeToLiveResponse> left) {
        header_.fill(response->mutable_header());
        response->set_id(id);
        if (!left) {
          // etcd answers an unknown lease with TTL -1 and OK, not an error.
          if (!is_lease_not_found(left.status())) {
            return reactor->Finish(to_grpc_status(left.status()));
          }
          response->set_ttl(-1);
          return reactor->Finish(grpc::Status::OK);
        }
        response->set_ttl(left->ttl_seconds);
        response->set_grantedttl(left->granted_ttl_seconds);
        for (const std::string& key : left->keys) response->add_keys(key);
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

grpc::ServerUnaryReactor* LeaseService::LeaseLeases(
    grpc::CallbackServerContext* context, const etcdserverpb::LeaseLeasesRequest* /*request*/,
    etcdserverpb::LeaseLeasesResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Result<std::vector<LeaseInfo>> leases = header_.engine().client().leases();
  if (!leases) {
    reactor->Finish(to_grpc_status(leases.status()));
    return reactor;
  }
  header_.fill(response->mutable_header());
  for (const LeaseInfo& lease : *leases) response->add_leases()->set_id(lease.id);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace dengine::api
