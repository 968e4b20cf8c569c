#include "api/backend_quota.h"

#include <algorithm>
#include <vector>

#include "api/log_command.h"
#include "dengine/state_machine.h"
#include "runtime/engine_internals.h"

namespace dengine::api {
namespace {

constexpr uint64_t kPutOverhead = 256;  // etcd's kvOverhead

uint64_t cost_of_ops(const std::vector<RequestOp>& ops) {
  uint64_t cost = 0;
  for (const RequestOp& op : ops) {
    if (const auto* put = std::get_if<PutRequest>(&op.request)) cost += BackendQuota::cost_of(*put);
    if (const auto* txn = std::get_if<TxnRequest>(&op.request)) cost += BackendQuota::cost_of(*txn);
  }
  return cost;
}

}  // namespace

uint64_t BackendQuota::cost_of(const PutRequest& put) {
  return kPutOverhead + put.key.size() + put.value.size();
}

uint64_t BackendQuota::cost_of(const TxnRequest& txn) {
  return std::max(cost_of_ops(txn.success), cost_of_ops(txn.failure));
}

Status BackendQuota::admit(uint64_t cost) const {
  if (quota_bytes_ < 0) return Status::ok();
  runtime::RaftRuntime& runtime = runtime::runtime_of(engine_);
  const uint64_t used =
      runtime.read_local([](const StateMachine& machine) { return machine.approximate_bytes(); });
  // etcd: available only while size + cost stays below the quota.
  if (used + cost < static_cast<uint64_t>(quota_bytes_)) return Status::ok();
  const Alarm no_space{.member = self_, .type = AlarmType::kNoSpace};
  const bool raised = runtime.read_local([&](const StateMachine& machine) {
    const std::vector<Alarm> alarms = machine.alarms();
    return std::find(alarms.begin(), alarms.end(), no_space) != alarms.end();
  });
  if (!raised) propose_and_forget(engine_, kv::AlarmChangeRequest{true, no_space});
  return Status::of(ErrorDetail::kNoSpace);
}

}  // namespace dengine::api
