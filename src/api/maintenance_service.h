#pragma once

// etcd's Maintenance service, as far as `etcdctl endpoint status` and `endpoint health` need
// it: Status, and Alarm (no alarms are raised yet; the quota alarm comes with the maintenance
// work). The other methods answer Unimplemented.

#include <string>

#include "api/member_header.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace dengine::api {

class MaintenanceService final : public etcdserverpb::Maintenance::CallbackService {
 public:
  // `data_dir`: the engine's; Status reports the size of its state machine as the database's.
  MaintenanceService(const MemberHeader& header, std::string data_dir)
      : header_(header), data_dir_(std::move(data_dir)) {}

  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* context,
                                   const etcdserverpb::StatusRequest* request,
                                   etcdserverpb::StatusResponse* response) override;
  grpc::ServerUnaryReactor* Alarm(grpc::CallbackServerContext* context,
                                  const etcdserverpb::AlarmRequest* request,
                                  etcdserverpb::AlarmResponse* response) override;

 private:
  const MemberHeader& header_;
  const std::string data_dir_;
};

}  // namespace dengine::api
