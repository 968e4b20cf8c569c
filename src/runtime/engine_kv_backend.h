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
  Result<RangeResponse> range(RangeRequest request, Read consistency) override;
  Result<TxnResponse> read_txn(TxnRequest request, Read consistency) override;
  void submit_lease_renew(LeaseId id,
                          UniqueFunction<void(Result<LeaseKeepAliveResponse>)> done) override;
  void submit_lease_time_to_live(
      LeaseId id, bool with_keys,
      UniqueFunction<void(Result<LeaseTimeToLiveResponse>)> done) override;
  Result<std::vector<LeaseInfo>> lease_list() override;
  std::shared_ptr<detail::KeepAliveTicket> start_keep_alive(LeaseId id) override;
  std::shared_ptr<detail::WatchChannel> open_watch(std::string key, std::string range_end,
                                                   WatchOptions options) override;

 private:
  // Runs `read` against the state machine at `consistency`, answering `done` with its result.
  template <typename Response, typename ReadFn>
  void submit_read(Read consistency, ReadFn read, UniqueFunction<void(Result<Response>)> done);
  // The same, blocking: the core only confirms the read index, and the read runs on the
  // caller's thread (one thread hand-off less than the apply worker serving it).
  template <typename Response, typename ReadFn>
  Result<Response> read_here(Read consistency, ReadFn read);

  RaftRuntime& runtime_;
};

}  // namespace dengine::runtime
