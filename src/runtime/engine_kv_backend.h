#pragma once

// The in-process KvClient backend: writes become log proposals (kv/'s command encoding),
// reads are served by the runtime at the caller's consistency. No network, no protobuf.

#include "dengine/kv_client.h"
#include "runtime/raft_runtime.h"

namespace dengine::runtime {

class EngineKvBackend final : public detail::KvBackend {
 public:
  explicit EngineKvBackend(RaftRuntime& runtime) : runtime_(runtime) {}

  void submit_write(KvWrite request, UniqueFunction<void(Result<KvResponse>)> done) override;
  void submit_range(RangeRequest request, Read consistency,
                    UniqueFunction<void(Result<RangeResponse>)> done) override;
  void submit_read_txn(TxnRequest request, Read consistency,
                       UniqueFunction<void(Result<TxnResponse>)> done) override;

 private:
  // Runs `read` against the state machine at `consistency`, answering `done` with its result.
  template <typename Response, typename ReadFn>
  void submit_read(Read consistency, ReadFn read, UniqueFunction<void(Result<Response>)> done);

  RaftRuntime& runtime_;
};

}  // namespace dengine::runtime
