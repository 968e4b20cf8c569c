#pragma once

// etcd's KV service (Range, Put, DeleteRange, Txn, Compact) over an engine: etcd's request
// checks first (answered at once, as etcd answers them before proposing), then the engine's
// KvClient, whose completion finishes the call. No thread waits: gRPC's callback API.

#include <cstddef>
#include <cstdint>

#include "api/backend_quota.h"
#include "api/member_header.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace dengine::api {

struct KvServiceLimits {
  size_t max_request_bytes = 1'572'864;  // etcd's --max-request-bytes
  size_t max_txn_ops = 128;              // etcd's --max-txn-ops
};

class KvService final : public etcdserverpb::KV::CallbackService {
 public:
  KvService(const MemberHeader& header, KvServiceLimits limits, const BackendQuota& quota)
      : header_(header), limits_(limits), quota_(quota) {}

  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* context,
                                  const etcdserverpb::RangeRequest* request,
                                  etcdserverpb::RangeResponse* response) override;
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* context,
                                const etcdserverpb::PutRequest* request,
                                etcdserverpb::PutResponse* response) override;
  grpc::ServerUnaryReactor* DeleteRange(grpc::CallbackServerContext* context,
                                        const etcdserverpb::DeleteRangeRequest* request,
                                        etcdserverpb::DeleteRangeResponse* response) override;
  grpc::ServerUnaryReactor* Txn(grpc::CallbackServerContext* context,
                                const etcdserverpb::TxnRequest* request,
                                etcdserverpb::TxnResponse* response) override;
  grpc::ServerUnaryReactor* Compact(grpc::CallbackServerContext* context,
                                    const etcdserverpb::CompactionRequest* request,
                                    etcdserverpb::CompactionResponse* response) override;

 private:
  const MemberHeader& header_;
  const KvServiceLimits limits_;
  const BackendQuota& quota_;
};

}  // namespace dengine::api
