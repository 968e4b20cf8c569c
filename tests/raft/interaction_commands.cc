#include "tests/raft/interaction_commands.h"

#include <functional>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

namespace dengine::raft::test {

namespace {

Status wrong_arity(const ScriptCommand& command, const std::string& usage) {
  return Status::invalid_argument(command.name + ": usage: " + usage);
}

// Every positional word as a node id (at least `min`).
Result<std::vector<NodeId>> node_ids(const ScriptCommand& command, size_t min,
                                     const std::string& usage) {
  if (command.positional.size() < min) return wrong_arity(command, usage);
  std::vector<NodeId> ids;
  for (const std::string& word : command.positional) {
    Result<uint64_t> id = parse_number(word);
    if (!id) return id.status();
    ids.push_back(*id);
  }
  return ids;
}

Result<NodeId> one_node(const ScriptCommand& command, const std::string& usage) {
  if (command.positional.size() != 1) return wrong_arity(command, usage);
  return parse_number(command.positional[0]);
}

Result<bool> flag(const ScriptCommand& command, const std::string& key, bool default_value) {
  auto it = command.named.find(key);
  if (it == command.named.end()) return default_value;
  return parse_bool(it->second);
}

Result<uint64_t> number(const ScriptCommand& command, const std::string& key,
                        uint64_t default_value) {
  auto it = command.named.find(key);
  if (it == command.named.end()) return default_value;
  return parse_number(it->second);
}

Status add_nodes(InteractionEnv& env, const ScriptCommand& command) {
  const std::string usage =
      "add-nodes N [voters=(1,2,3)] [learners=(4)] [index=I] [pre-vote=B] [check-quorum=B] "
      "[election=T] [heartbeat=T] [trailing=N] [max-append-bytes=N]";
  if (command.positional.size() != 1) return wrong_arity(command, usage);
  Result<uint64_t> count = parse_number(command.positional[0]);
  if (!count) return count.status();
  NodeOptions options;
  for (const auto& [key, value] : command.named) {
    Status parsed = Status::ok();
    auto set_number = [&parsed, &value](auto& field) {
      Result<uint64_t> n = parse_number(value);
      if (n) field = static_cast<std::remove_reference_t<decltype(field)>>(*n);
      parsed = n ? Status::ok() : n.status();
    };
    auto set_bool = [&parsed, &value](bool& field) {
      Result<bool> b = parse_bool(value);
      if (b) field = *b;
      parsed = b ? Status::ok() : b.status();
    };
    auto set_ids = [&parsed, &value](std::vector<NodeId>& field) {
      Result<std::vector<uint64_t>> ids = parse_number_list(value);
      if (ids) field = *ids;
      parsed = ids ? Status::ok() : ids.status();
    };
    if (key == "voters") {
      set_ids(options.voters);
    } else if (key == "learners") {
      set_ids(options.learners);
    } else if (key == "index") {
      set_number(options.image_index);
    } else if (key == "pre-vote") {
      set_bool(options.pre_vote);
    } else if (key == "check-quorum") {
      set_bool(options.check_quorum);
    } else if (key == "election") {
      set_number(options.election_timeout_ticks);
    } else if (key == "heartbeat") {
      set_number(options.heartbeat_interval_ticks);
    } else if (key == "trailing") {
      set_number(options.compaction_trailing_entries);
    } else if (key == "max-append-bytes") {
      set_number(options.max_append_bytes);
    } else {
      return Status::invalid_argument("add-nodes: unknown argument '" + key + "'; " + usage);
    }
    if (!parsed) return parsed;
  }
  return env.add_nodes(*count, options);
}

// "v4" adds voter 4, "l5" learner 5, "r2" removes node 2 (etcd's notation).
Result<std::vector<ConfChange>> conf_changes(const std::vector<std::string>& words) {
  std::vector<ConfChange> changes;
  for (const std::string& word : words) {
    if (word.size() < 2) return Status::invalid_argument("conf change '" + word + "' too short");
    ConfChange change;
    switch (word.front()) {
      case 'v': change.op = ConfChangeOp::kAddVoter; break;
      case 'l': change.op = ConfChangeOp::kAddLearner; break;
      case 'r': change.op = ConfChangeOp::kRemoveNode; break;
      default: return Status::invalid_argument("conf change '" + word + "' is not vN, lN or rN");
    }
    Result<uint64_t> node = parse_number(word.substr(1));
    if (!node) return node.status();
    change.node = *node;
    changes.push_back(change);
  }
  return changes;
}

using Handler = std::function<Status(InteractionEnv&, const ScriptCommand&)>;

const std::map<std::string, Handler>& handlers() {
  static const std::map<std::string, Handler> table = {
      {"add-nodes", add_nodes},
      {"tick",
       [](InteractionEnv& env, const ScriptCommand& c) {
         Result<std::vector<NodeId>> args = node_ids(c, 2, "tick ID N");
         if (!args) return args.status();
         if (args->size() != 2) return wrong_arity(c, "tick ID N");
         return env.tick((*args)[0], static_cast<int>((*args)[1]));
       }},
      {"tick-election",
       [](InteractionEnv& env, const ScriptCommand& c) {
         Result<NodeId> id = one_node(c, "tick-election ID");
         return id ? env.tick_election(*id) : id.status();
       }},
      {"tick-heartbeat",
       [](InteractionEnv& env, const ScriptCommand& c) {
         Result<NodeId> id = one_node(c, "tick-heartbeat ID");
         return id ? env.tick_heartbeat(*id) : id.status();
       }},
      {"campaign",
       [](InteractionEnv& env, const ScriptCommand& c) {
         Result<NodeId> id = one_node(c, "campaign ID");
         return id ? env.campaign(*id) : id.status();
       }},
      {"propose",
       [](InteractionEnv& env, const ScriptCommand& c) {
         if (c.positional.size() != 2) return wrong_arity(c, "propose ID DATA");
         Result<uint64_t> id = parse_number(c.positional[0]);
         return id ? env.propose(*id, c.positional[1]) : id.status();
       }},
      {"propose-conf-change",
       [](InteractionEnv& env, const ScriptCommand& c) {
         const std::string usage = "propose-conf-change ID v4 l5 r2 ...";
         if (c.positional.size() < 2) return wrong_arity(c, usage);
         Result<uint64_t> id = parse_number(c.positional[0]);
         if (!id) return id.status();
         Result<std::vector<ConfChange>> changes =
             conf_changes({c.positional.begin() + 1, c.positional.end()});
         return changes ? env.propose_conf_change(*id, *changes) : changes.status();
       }},
      {"transfer-leadership",
       [](InteractionEnv& env, const ScriptCommand& c) {
         Result<uint64_t> from = number(c, "from", 0);
         Result<uint64_t> to = number(c, "to", 0);
         if (!from || !to || *from == 0 || *to == 0 || !c.positional.empty()) {
           return wrong_arity(c, "transfer-leadership from=ID to=ID");
         }
         return env.transfer_leadership(*from, *to);
       }},
      {"read-index",
       [](InteractionEnv& env, const ScriptCommand& c) {
         Result<std::vector<NodeId>> args = node_ids(c, 2, "read-index ID CONTEXT");
         if (!args) return args.status();
         if (args->size() != 2) return wrong_arity(c, "read-index ID CONTEXT");
         return env.read_index((*args)[0], (*args)[1]);
       }},
      {"snapshot",
       [](InteractionEnv& env, const ScriptCommand& c) {
         Result<NodeId> id = one_node(c, "snapshot ID");
         return id ? env.snapshot(*id) : id.status();
       }},
      {"process-ready",
       [](InteractionEnv& env, const ScriptCommand& c) {
         Result<std::vector<NodeId>> ids = node_ids(c, 1, "process-ready ID... [persist=false]");
         if (!ids) return ids.status();
         Result<bool> persist = flag(c, "persist", true);
         if (!persist) return persist.status();
         for (NodeId id : *ids) {
           if (Status done = env.process_ready(id, *persist); !done) return done;
         }
         return Status::ok();
       }},
      {"persist",
       [](InteractionEnv& env, const ScriptCommand& c) {
         Result<NodeId> id = one_node(c, "persist ID");
         return id ? env.persist(*id) : id.status();
       }},
      {"deliver-msgs",
       [](InteractionEnv& env, const ScriptCommand& c) {
         Result<std::vector<NodeId>> ids = node_ids(c, 1, "deliver-msgs ID... [drop=true]");
         if (!ids) return ids.status();
         Result<bool> drop = flag(c, "drop", false);
         if (!drop) return drop.status();
         for (NodeId id : *ids) {
           if (Status done = env.deliver_messages(id, *drop); !done) return done;
         }
         return Status::ok();
       }},
      {"stabilize",
       [](InteractionEnv& env, const ScriptCommand& c) {
         Result<std::vector<NodeId>> ids = node_ids(c, 0, "stabilize [ID...]");
         return ids ? env.stabilize(*ids) : ids.status();
       }},
      {"restart",
       [](InteractionEnv& env, const ScriptCommand& c) {
         Result<NodeId> id = one_node(c, "restart ID");
         return id ? env.restart(*id) : id.status();
       }},
      {"cut",
       [](InteractionEnv& env, const ScriptCommand& c) {
         Result<std::vector<NodeId>> ids = node_ids(c, 2, "cut A B");
         if (!ids) return ids.status();
         if (ids->size() != 2) return wrong_arity(c, "cut A B");
         return env.cut((*ids)[0], (*ids)[1]);
       }},
      {"isolate",
       [](InteractionEnv& env, const ScriptCommand& c) {
         Result<NodeId> id = one_node(c, "isolate ID");
         return id ? env.isolate(*id) : id.status();
       }},
      {"heal",
       [](InteractionEnv& env, const ScriptCommand& c) {
         if (!c.positional.empty()) return wrong_arity(c, "heal");
         env.heal();
         return Status::ok();
       }},
      {"status",
       [](InteractionEnv& env, const ScriptCommand& c) {
         Result<NodeId> id = one_node(c, "status ID");
         return id ? env.status(*id) : id.status();
       }},
      {"raft-log",
       [](InteractionEnv& env, const ScriptCommand& c) {
         Result<NodeId> id = one_node(c, "raft-log ID");
         return id ? env.raft_log(*id) : id.status();
       }},
      {"log-level",
       [](InteractionEnv& env, const ScriptCommand& c) {
         if (c.positional.size() != 1 || (c.positional[0] != "none" && c.positional[0] != "info")) {
           return wrong_arity(c, "log-level none|info");
         }
         env.set_quiet(c.positional[0] == "none");
         return Status::ok();
       }},
  };
  return table;
}

}  // namespace

Status run_command(InteractionEnv& env, const ScriptCommand& command) {
  auto it = handlers().find(command.name);
  if (it == handlers().end()) {
    std::string known;
    for (const auto& [name, handler] : handlers()) known += " " + name;
    return Status::invalid_argument("unknown command '" + command.name + "'; known:" + known);
  }
  return it->second(env, command);
}

}  // namespace dengine::raft::test
