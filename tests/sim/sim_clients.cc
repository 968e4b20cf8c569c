// Simulated clients: each runs one operation at a time (put, compare-and-set or a read through
// the log) against whichever node it believes leads, and records the history for the
// linearizability check.

#include <string>

#include "tests/sim/simulation.h"

namespace dengine::sim {

void Simulation::schedule_client(Client& client, Micros delay) {
  schedule(delay, [this, id = client.id] { client_issue(id); });
}

void Simulation::client_issue(int client_id) {
  Client& client = clients_[static_cast<size_t>(client_id)];
  if (client.op || failure_) return;
  ClientOp op;
  op.op_uid = next_op_uid_++;
  op.record.client_id = client.id;
  op.record.key = static_cast<uint32_t>(rng_.below(options_.keys));
  op.record.call_time = now_;
  const uint64_t dice = rng_.below(10);
  // Written values are unique, so a read names the write it saw.
  const auto unique_value = static_cast<int64_t>(op.op_uid);
  if (dice < 4) {
    op.record.kind = OpKind::kPut;
    op.record.value = unique_value;
  } else if (dice < 6) {
    op.record.kind = OpKind::kCas;
    op.record.value = unique_value;
    // Expect the latest value this client knows of, or something plausible.
    op.record.expected = kAbsent;
    for (auto it = history_.rbegin(); it != history_.rend(); ++it) {
      if (it->key != op.record.key || !it->outcome_known) continue;
      if (it->kind == OpKind::kGet) {
        op.record.expected = it->read_value;
        break;
      }
      if (it->kind == OpKind::kPut || (it->kind == OpKind::kCas && it->cas_succeeded)) {
        op.record.expected = it->value;
        break;
      }
    }
  } else {
    op.record.kind = OpKind::kGet;
  }
  op.deadline = now_ + options_.client_timeout;
  client.op = op;
  client_try_propose(client_id);
}

void Simulation::client_try_propose(int client_id) {
  Client& client = clients_[static_cast<size_t>(client_id)];
  if (!client.op || client.op->node != kNoNode || failure_) return;
  if (now_ >= client.op->deadline) {
    // Never accepted by any leader: it did not happen.
    client_forget(client);
    return;
  }
  NodeId target = client.preferred;
  if (target == kNoNode || !node(target).up) {
    target = rng_.between(1, static_cast<uint64_t>(options_.nodes));
  }
  Node& n = node(target);
  if (!n.up) {
    schedule(rng_.between(5'000, 20'000), [this, client_id] { client_try_propose(client_id); });
    return;
  }
  Command command{.kind = client.op->record.kind,
                  .key = client.op->record.key,
                  .value = client.op->record.value,
                  .expected = client.op->record.expected,
                  .op_uid = client.op->op_uid};
  Result<Index> proposed = n.raft->propose(encode_command(command));
  if (!proposed) {
    // Not appended anywhere: try the leader this node knows of, or another node.
    client.preferred = n.raft->leader();
    schedule(rng_.between(2'000, 20'000), [this, client_id] { client_try_propose(client_id); });
    return;
  }
  client.preferred = target;
  client.op->node = target;
  client.op->index = *proposed;
  client.op->node_incarnation = n.incarnation;
  schedule(client.op->deadline - now_,
           [this, client_id, uid = client.op->op_uid] {
             Client& c = clients_[static_cast<size_t>(client_id)];
             if (c.op && c.op->op_uid == uid) client_complete(c, false, {});
           });
  drain(n);
}

void Simulation::client_complete(Client& client, bool known, const CommandResult& result) {
  KvOperation record = client.op->record;
  record.outcome_known = known;
  record.return_time = now_;
  if (known) {
    record.cas_succeeded = result.cas_succeeded;
    record.read_value = result.read_value;
    ++stats_.ops_ok;
    if (record.call_time >= healed_at_ && !faults_active_) client.succeeded_after_heal = true;
  } else {
    ++stats_.ops_unknown;
    client.preferred = kNoNode;
  }
  if (options_.trace) {
    trace("client " + std::to_string(client.id) + (known ? " done " : " TIMEOUT ") +
          describe_operation(record));
  }
  history_.push_back(record);
  client.op.reset();
  schedule_client(client, rng_.between(1'000, 30'000));
}

void Simulation::client_forget(Client& client) {
  // The operation certainly never took effect, so it is left out of the history.
  client.preferred = kNoNode;
  client.op.reset();
  schedule_client(client, rng_.between(1'000, 30'000));
}

}  // namespace dengine::sim
