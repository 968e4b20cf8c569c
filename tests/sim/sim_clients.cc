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
    constexpr ReadMode kModes[] = {ReadMode::kLog, ReadMode::kReadIndex, ReadMode::kLease};
    op.read_mode = kModes[rng_.below(3)];
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
  // Clients with stale endpoints or load balancers reach arbitrary nodes, paused old leaders
  // included.
  if (target == kNoNode || !node(target).up || rng_.chance(0.2)) {
    target = rng_.between(1, static_cast<uint64_t>(options_.nodes));
  }
  Node& n = node(target);
  if (!n.up) {
    schedule(rng_.between(5'000, 20'000), [this, client_id] { client_try_propose(client_id); });
    return;
  }
  // A paused process answers when it resumes, before it has caught up with the cluster:
  // exactly when a lease on ticks instead of the clock would serve a stale read.
  if (deferred_while_paused(n, [this, client_id] { client_try_propose(client_id); })) return;
  if (client.op->read_mode != ReadMode::kLog) {
    client_start_read(client, n);
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
  schedule_deadline(client);
  drain(n);
}

void Simulation::client_start_read(Client& client, Node& n) {
  const int client_id = client.id;
  n.raft->observe_clock(node_clock_nanos(n));
  if (client.op->read_mode == ReadMode::kLease) {
    // The lease is checked against the node's clock at the moment the read is served.
    Result<Index> index = n.raft->lease_read(node_clock_nanos(n));
    if (index) {
      check_lease_read(n);
      client.op->node = n.id;
      client.op->node_incarnation = n.incarnation;
      client.op->index = *index;
      n.reads_waiting_apply.push_back({client_id, client.op->op_uid, *index});
      schedule_deadline(client);
      serve_reads_waiting_apply(n);
      return;
    }
    if (index.status().code() == StatusCode::kNotLeader) {
      client.preferred = n.raft->leader();
      schedule(rng_.between(2'000, 20'000), [this, client_id] { client_try_propose(client_id); });
      return;
    }
    client.op->read_mode = ReadMode::kReadIndex;  // no valid lease: confirm with a round
  }
  // ReadIndex works on followers too: they ask the leader.
  if (Status asked = n.raft->read_index(client.op->op_uid); !asked) {
    client.preferred = n.raft->leader();
    schedule(rng_.between(2'000, 20'000), [this, client_id] { client_try_propose(client_id); });
    return;
  }
  client.op->node = n.id;
  client.op->node_incarnation = n.incarnation;
  client.op->read_in_flight = true;
  schedule_deadline(client);
  drain(n);
}

void Simulation::on_read_states(Node& n, const Ready& ready) {
  for (const ReadState& state : ready.read_states) {
    for (Client& client : clients_) {
      if (!client.op || client.op->op_uid != state.request_id || client.op->node != n.id ||
          client.op->node_incarnation != n.incarnation || !client.op->read_in_flight) {
        continue;
      }
      client.op->read_in_flight = false;
      client.op->index = state.index;
      n.reads_waiting_apply.push_back({client.id, client.op->op_uid, state.index});
    }
  }
  for (uint64_t aborted : ready.aborted_reads) {
    for (Client& client : clients_) {
      if (client.op && client.op->op_uid == aborted && client.op->node == n.id &&
          client.op->read_in_flight) {
        client_forget(client);  // a read that was never served had no effect
      }
    }
  }
}

void Simulation::serve_reads_waiting_apply(Node& n) {
  auto& waiting = n.reads_waiting_apply;
  for (size_t i = 0; i < waiting.size();) {
    if (waiting[i].index > n.applied) {
      ++i;
      continue;
    }
    Client& client = clients_[static_cast<size_t>(waiting[i].client_id)];
    const uint64_t uid = waiting[i].op_uid;
    waiting.erase(waiting.begin() + static_cast<std::ptrdiff_t>(i));
    if (client.op && client.op->op_uid == uid) serve_read(n, client);
  }
}

void Simulation::serve_read(Node& n, Client& client) {
  CommandResult result;
  const auto& registers = n.machine.registers();
  auto it = registers.find(client.op->record.key);
  result.read_value = it == registers.end() ? kAbsent : it->second;
  ++(client.op->read_mode == ReadMode::kLease ? stats_.reads_lease : stats_.reads_index);
  client_complete(client, true, result);
}

void Simulation::schedule_deadline(Client& client) {
  schedule(client.op->deadline - now_, [this, client_id = client.id, uid = client.op->op_uid] {
    Client& c = clients_[static_cast<size_t>(client_id)];
    if (c.op && c.op->op_uid == uid) client_complete(c, false, {});
  });
}

void Simulation::client_complete(Client& client, bool known, const CommandResult& result) {
  KvOperation record = client.op->record;
  record.outcome_known = known;
  record.return_time = now_;
  if (known) {
    record.cas_succeeded = result.cas_succeeded;
    record.read_value = result.read_value;
    ++stats_.ops_ok;
    if (record.kind == OpKind::kGet && client.op->read_mode == ReadMode::kLog) ++stats_.reads_log;
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
