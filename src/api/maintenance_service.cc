#include "api/maintenance_service.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "api/etcd_status.h"
#include "dengine/embedded_engine.h"
#include "runtime/engine_internals.h"

namespace dengine::api {
namespace {

// The API version etcd's clients see: the etcd release whose wire behaviour dengine matches.
constexpr const char* kEtcdApiVersion = "3.4.23";

int64_t bytes_under(const std::string& dir) {
  std::error_code error;
  int64_t total = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (it->is_regular_file(error)) total += static_cast<int64_t>(it->file_size(error));
  }
  return total;
}

}  // namespace

grpc::ServerUnaryReactor* MaintenanceService::Status(grpc::CallbackServerContext* context,
                                                     const etcdserverpb::StatusRequest* /*request*/,
                                                     etcdserverpb::StatusResponse* response) {
  const runtime::NodeStatus status = runtime::runtime_of(header_.engine()).status();
  header_.fill(response->mutable_header());
  response->set_version(kEtcdApiVersion);
  const int64_t size = bytes_under(data_dir_ + "/kv");  // the state machine, not the WAL
  response->set_dbsize(size);
  response->set_dbsizeinuse(size);
  // The engine's node ids are etcd's member ids.
  response->set_leader(status.leader);
  response->set_raftindex(status.commit);
  response->set_raftterm(status.term);
  response->set_raftappliedindex(status.applied);
  bool learner = false;
  for (const NodeId id : status.conf.learners) learner = learner || id == status.id;
  response->set_islearner(learner);
  if (!status.fatal.is_ok()) response->add_errors(status.fatal.message());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::Alarm(grpc::CallbackServerContext* context,
                                                    const etcdserverpb::AlarmRequest* request,
                                                    etcdserverpb::AlarmResponse* /*response*/) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Nothing raises an alarm yet, so a list is empty and activating one is not supported.
  if (request->action() == etcdserverpb::AlarmRequest::ACTIVATE) {
    reactor->Finish({grpc::StatusCode::UNIMPLEMENTED, "dengine: alarms cannot be raised yet"});
  } else {
    reactor->Finish(grpc::Status::OK);  // etcd's alarm responses carry no header
  }
  return reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::MoveLeader(
    grpc::CallbackServerContext* context, const etcdserverpb::MoveLeaderRequest* request,
    etcdserverpb::MoveLeaderResponse* response) {  // NOLINT(misc-unused-parameters)
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  EmbeddedEngine& engine = header_.engine();
  const NodeId target = request->targetid();
  // etcd's errors (rpctypes): ErrGRPCNotLeader, ErrGRPCBadLeaderTransferee, and the timeout.
  if (!engine.is_leader()) {
    reactor->Finish({grpc::StatusCode::FAILED_PRECONDITION, "etcdserver: not leader"});
    return reactor;
  }
  const ConfState members = engine.members();
  const bool voter = std::find(members.voters.begin(), members.voters.end(), target) !=
                     members.voters.end();
  if (!voter) {
    reactor->Finish({grpc::StatusCode::FAILED_PRECONDITION, "etcdserver: bad leader transferee"});
    return reactor;
  }
  if (target != engine.id()) {
    if (dengine::Status moved = engine.transfer_leadership(target, move_leader_timeout_);
        !moved) {
      reactor->Finish(moved.code() == StatusCode::kTimedOut
                          ? grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                         "etcdserver: request timed out, leader transfer took "
                                         "too long")
                          : to_grpc_status(moved));
      return reactor;
    }
  }
  (void)response;  // etcd answers with an empty MoveLeaderResponse, header included
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace dengine::api
