#pragma once

// etcd's v3lock service (etcdserver/api/v3lock): Lock(name, lease) takes a mutex on the prefix
// `name` for the client's lease, with the Lock recipe (dengine/lock.h), and answers with the
// ownership key, name + "/" + the lease id in hex; Unlock(key) deletes that key. The server
// never keeps the lease alive: the client does, and the lock goes with the lease when it
// expires or is revoked.

#include "api/concurrency_calls.h"
#include "api/member_header.h"
#include "etcd/v3lockpb/v3lock.grpc.pb.h"

namespace dengine::api {

class LockService final : public v3lockpb::Lock::CallbackService {
 public:
  LockService(const MemberHeader& header, WaitingCalls& waiting)
      : header_(header), waiting_(waiting) {}

  // Waits on a worker of `waiting` until the lock is this lease's.
  grpc::ServerUnaryReactor* Lock(grpc::CallbackServerContext* context,
                                 const v3lockpb::LockRequest* request,
                                 v3lockpb::LockResponse* response) override;
  grpc::ServerUnaryReactor* Unlock(grpc::CallbackServerContext* context,
                                   const v3lockpb::UnlockRequest* request,
                                   v3lockpb::UnlockResponse* response) override;

 private:
  const MemberHeader& header_;
  WaitingCalls& waiting_;
};

}  // namespace dengine::api
