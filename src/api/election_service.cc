#include "api/election_service.h"

#include <memory>
#include <string>
#include <utility>

#include "api/election_observe.h"
#include "api/etcd_codec.h"
#include "dengine/election.h"
#include "dengine/embedded_engine.h"
#include "dengine/session.h"
#include "kv/request_validation.h"
#include "recipes/key_queue.h"

namespace dengine::api {
namespace {

// etcd's errors of the election (clientv3/concurrency, etcdserver/api/v3election).
constexpr const char* kNotLeader = "election: not leader";
constexpr const char* kNoLeader = "election: no leader";
constexpr const char* kMissingLeaderKey = "\"leader\" field must be provided";

grpc::ServerUnaryReactor* finished(grpc::CallbackServerContext* context, grpc::Status status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(std::move(status));
  return reactor;
}

// The recipe aborts when the engine replaced one of its writes (etcd's "leader changed"), or
// when the candidate's key vanished, which mostly means that its lease expired or was revoked:
// then say so, as a new campaign on that lease would.
grpc::Status campaign_error(KvClient& kv, LeaseId lease, const Status& why) {
  if (why.code() == StatusCode::kAborted) {
    Result<LeaseTimeToLiveResponse> left = kv.time_to_live(lease);
    if (!left && left.status().is(ErrorDetail::kLeaseNotFound)) {
      return concurrency_error(left.status());
    }
  }
  return concurrency_error(why);
}

// etcd's Campaign: a session on the client's lease (lease 0: a new lease of etcd's default
// session TTL, 60 s), orphaned at once since keeping the lease alive is the client's job.
grpc::Status campaign(const MemberHeader& header, const v3electionpb::CampaignRequest& request,
                      v3electionpb::CampaignResponse* response, std::stop_token stop) {
  KvClient& kv = header.engine().client();
  SessionOptions session_options;
  session_options.lease = request.lease();
  Result<std::unique_ptr<Session>> session = Session::create(kv, std::move(session_options));
  if (!session) return concurrency_error(session.status());
  (*session)->orphan();

  dengine::Election election(**session, request.name());
  WaitOptions wait;
  wait.stop = std::move(stop);
  if (Status led = election.campaign(request.value(), std::move(wait)); !led) {
    return campaign_error(kv, (*session)->lease(), led);
  }
  v3electionpb::LeaderKey* leader = response->mutable_leader();
  leader->set_name(request.name());
  leader->set_key(election.key());
  leader->set_rev(election.revision());
  leader->set_lease((*session)->lease());
  header.fill(response->mutable_header());
  return grpc::Status::OK;
}

// etcd's ResumeElection, then Proclaim or Resign: `op` only while the leader's key still
// exists as the generation the LeaderKey names.
TxnRequest while_leading(const v3electionpb::LeaderKey& leader, RequestOp op) {
  TxnRequest txn;
  txn.compare.push_back(recipes::created_at(leader.key(), leader.rev()));
  txn.success.push_back(std::move(op));
  return txn;
}

}  // namespace

grpc::ServerUnaryReactor* ElectionService::Campaign(grpc::CallbackServerContext* /*context*/,
                                                    const v3electionpb::CampaignRequest* request,
                                                    v3electionpb::CampaignResponse* response) {
  return WaitingUnaryCall::start(waiting_, [this, request, response](std::stop_token stop) {
    return campaign(header_, *request, response, std::move(stop));
  });
}

grpc::ServerUnaryReactor* ElectionService::Proclaim(grpc::CallbackServerContext* context,
                                                    const v3electionpb::ProclaimRequest* request,
                                                    v3electionpb::ProclaimResponse* response) {
  if (!request->has_leader()) return finished(context, concurrency_error(kMissingLeaderKey));
  PutRequest put;
  put.key = request->leader().key();
  put.value = request->value();
  put.lease = request->leader().lease();
  TxnRequest txn = while_leading(request->leader(), RequestOp{std::move(put)});
  if (Status checked = kv::check_txn_request(txn); !checked) {
    return finished(context, concurrency_error(checked));
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  header_.engine().client().async_txn(
      std::move(txn), [this, reactor, response](Result<TxnResponse> proclaimed) {
        if (!proclaimed) return reactor->Finish(concurrency_error(proclaimed.status()));
        if (!proclaimed->succeeded) return reactor->Finish(concurrency_error(kNotLeader));
        response->mutable_header()->set_revision(proclaimed->revision);
        header_.fill(response->mutable_header());
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

grpc::ServerUnaryReactor* ElectionService::Leader(grpc::CallbackServerContext* context,
                                                  const v3electionpb::LeaderRequest* request,
                                                  v3electionpb::LeaderResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  header_.engine().client().async_range(
      recipes::first_created(request->name() + "/"), {},
      [this, reactor, response](Result<RangeResponse> oldest) {
        if (!oldest) return reactor->Finish(concurrency_error(oldest.status()));
        if (oldest->kvs.empty()) return reactor->Finish(concurrency_error(kNoLeader));
        response->mutable_header()->set_revision(oldest->revision);
        header_.fill(response->mutable_header());
        to_wire(oldest->kvs.front(), response->mutable_kv());
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

grpc::ServerWriteReactor<v3electionpb::LeaderResponse>* ElectionService::Observe(
    grpc::CallbackServerContext* /*context*/, const v3electionpb::LeaderRequest* request) {
  return start_observe(header_, waiting_, request->name() + "/");
}

// As etcd: resigning a key that no longer leads is no error.
grpc::ServerUnaryReactor* ElectionService::Resign(grpc::CallbackServerContext* context,
                                                  const v3electionpb::ResignRequest* request,
                                                  v3electionpb::ResignResponse* response) {
  if (!request->has_leader()) return finished(context, concurrency_error(kMissingLeaderKey));
  DeleteRangeRequest erase;
  erase.key = request->leader().key();
  TxnRequest txn = while_leading(request->leader(), RequestOp{std::move(erase)});
  if (Status checked = kv::check_txn_request(txn); !checked) {
    return finished(context, concurrency_error(checked));
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  header_.engine().client().async_txn(
      std::move(txn), [this, reactor, response](Result<TxnResponse> resigned) {
        if (!resigned) return reactor->Finish(concurrency_error(resigned.status()));
        response->mutable_header()->set_revision(resigned->revision);
        header_.fill(response->mutable_header());
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

}  // namespace dengine::api
