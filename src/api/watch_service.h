#pragma once

// etcd's Watch service: one two-way stream carries many watches (create, cancel, progress
// requests in; created, event, canceled and compacted responses out), each an engine Watch
// (dengine/watch.h), which delivers every event once, in revision order. A client that stops
// reading holds a bounded queue here; its watches then stop pulling events and later catch up
// from the store's history, so a slow client never slows the engine.

#include "api/member_header.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace dengine::api {

class WatchService final : public etcdserverpb::Watch::CallbackService {
 public:
  explicit WatchService(const MemberHeader& header) : header_(header) {}

  grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>* Watch(
      grpc::CallbackServerContext* context) override;

 private:
  const MemberHeader& header_;
};

}  // namespace dengine::api
