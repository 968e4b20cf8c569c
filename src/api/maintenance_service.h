#pragma once

// etcd's Maintenance service, as far as `etcdctl endpoint status`, `endpoint health`,
// `alarm list/disarm`, `move-leader`, `endpoint hashkv`, `defrag` and `snapshot save` need it:
// Status, Alarm, MoveLeader, HashKV, Defragment and Snapshot. Hash (of the whole backend file,
// testing only in etcd) answers Unimplemented.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "api/member_header.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace dengine::api {

class MaintenanceService final : public etcdserverpb::Maintenance::CallbackService {
 public:
  // `data_dir`: the engine's; Status reports the size of its state machine as the database's.
  // `move_leader_timeout`: how long MoveLeader waits for the target to lead, and an alarm
  // change for its entry to apply (etcd's request timeout).
  MaintenanceService(const MemberHeader& header, std::string data_dir,
                     std::chrono::milliseconds move_leader_timeout)
      : header_(header),
        data_dir_(std::move(data_dir)),
        move_leader_timeout_(move_leader_timeout) {}

  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* context,
                                   const etcdserverpb::StatusRequest* request,
                                   etcdserverpb::StatusResponse* response) override;
  grpc::ServerUnaryReactor* Alarm(grpc::CallbackServerContext* context,
                                  const etcdserverpb::AlarmRequest* request,
                                  etcdserverpb::AlarmResponse* response) override;
  // etcd: only the leader moves leadership, to a voter; the call returns once the target
  // leads. It waits on the calling gRPC thread (a rare operator call, bounded by the timeout).
  // A CRC-32C of the key-value history up to a revision: the kept versions at the compaction
  // revision, then every event after it. Equal on members that applied the same log, which is
  // what `etcdctl endpoint hashkv` compares (the value itself is dengine's, not etcd's).
  grpc::ServerUnaryReactor* HashKV(grpc::CallbackServerContext* context,
                                   const etcdserverpb::HashKVRequest* request,
                                   etcdserverpb::HashKVResponse* response) override;
  // etcd's defragment: this member's store rewritten compactly; its applies wait meanwhile (as
  // etcd's writes do), on the calling gRPC thread.
  grpc::ServerUnaryReactor* Defragment(grpc::CallbackServerContext* context,
                                       const etcdserverpb::DefragmentRequest* request,
                                       etcdserverpb::DefragmentResponse* response) override;
  grpc::ServerUnaryReactor* MoveLeader(grpc::CallbackServerContext* context,
                                       const etcdserverpb::MoveLeaderRequest* request,
                                       etcdserverpb::MoveLeaderResponse* response) override;
  // This member's whole state as a saved snapshot file (tools/snapshot_file.h), one piece per
  // response, with etcd's remaining_bytes; the last response carries the file's sha256, as
  // etcd's does. The image is taken when the call starts (applies wait for a checkpoint: a
  // flush and hard links) under <data-dir>/snapshots/, which the call removes however it ends
  // and a restart empties after a crash.
  grpc::ServerWriteReactor<etcdserverpb::SnapshotResponse>* Snapshot(
      grpc::CallbackServerContext* context, const etcdserverpb::SnapshotRequest* request) override;

 private:
  grpc::Status alarm(const etcdserverpb::AlarmRequest& request,
                     etcdserverpb::AlarmResponse& response) const;

  const MemberHeader& header_;
  const std::string data_dir_;
  const std::chrono::milliseconds move_leader_timeout_;
  std::atomic<uint64_t> images_taken_{0};
  // Snapshot streams in flight, shared with them: a stream may end after the service.
  std::shared_ptr<std::atomic<int>> snapshot_streams_ = std::make_shared<std::atomic<int>>(0);
};

}  // namespace dengine::api
