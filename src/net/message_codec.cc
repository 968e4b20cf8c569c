#include "net/message_codec.h"

#include <string>

namespace dengine::net {
namespace {

constexpr int kLastMessageType = static_cast<int>(MessageType::kTimeoutNow);
constexpr int kLastEntryType = static_cast<int>(EntryType::kConfChange);

void conf_to_wire(const ConfState& conf, raftpb::ConfState* wire) {
  for (const NodeId id : conf.voters) wire->add_voters(id);
  for (const NodeId id : conf.voters_outgoing) wire->add_voters_outgoing(id);
  for (const NodeId id : conf.learners) wire->add_learners(id);
}

ConfState conf_from_wire(const raftpb::ConfState& wire) {
  ConfState conf;
  conf.voters.assign(wire.voters().begin(), wire.voters().end());
  conf.voters_outgoing.assign(wire.voters_outgoing().begin(), wire.voters_outgoing().end());
  conf.learners.assign(wire.learners().begin(), wire.learners().end());
  return conf;
}

Status refuse(const std::string& what) {
  return Status::invalid_argument("net: peer message refused: " + what);
}

}  // namespace

void to_wire(const Message& message, raftpb::Message* wire) {
  wire->set_type(static_cast<raftpb::MessageType>(message.type));
  wire->set_from(message.from);
  wire->set_to(message.to);
  wire->set_term(message.term);
  wire->set_index(message.index);
  wire->set_log_term(message.log_term);
  for (const Entry& entry : message.entries) {
    raftpb::Entry* out = wire->add_entries();
    out->set_term(entry.term);
    out->set_index(entry.index);
    out->set_type(static_cast<raftpb::EntryType>(entry.type));
    out->set_data(entry.data);
  }
  wire->set_commit(message.commit);
  wire->set_reject(message.reject);
  wire->set_hint_index(message.hint_index);
  wire->set_hint_term(message.hint_term);
  wire->set_context(message.context);
  if (message.type == MessageType::kSnapshot) {
    raftpb::SnapshotMeta* snapshot = wire->mutable_snapshot();
    snapshot->set_index(message.snapshot.index);
    snapshot->set_term(message.snapshot.term);
    conf_to_wire(message.snapshot.conf, snapshot->mutable_conf());
  }
}

Result<Message> from_wire(const raftpb::Message& wire) {
  const int type = static_cast<int>(wire.type());
  if (type < 0 || type > kLastMessageType) {
    return refuse("unknown message type " + std::to_string(type));
  }
  Message message;
  message.type = static_cast<MessageType>(type);
  if (!wire.entries().empty() && message.type != MessageType::kAppend) {
    return refuse(std::string(message_type_name(message.type)) + " carries entries");
  }
  message.from = wire.from();
  message.to = wire.to();
  message.term = wire.term();
  message.index = wire.index();
  message.log_term = wire.log_term();
  message.entries.reserve(static_cast<size_t>(wire.entries_size()));
  for (const raftpb::Entry& entry : wire.entries()) {
    const int entry_type = static_cast<int>(entry.type());
    if (entry_type < 0 || entry_type > kLastEntryType) {
      return refuse("entry " + std::to_string(entry.index()) + " has unknown type " +
                    std::to_string(entry_type));
    }
    message.entries.push_back(Entry{.term = entry.term(),
                                    .index = entry.index(),
                                    .type = static_cast<EntryType>(entry_type),
                                    .data = entry.data()});
  }
  message.commit = wire.commit();
  message.reject = wire.reject();
  message.hint_index = wire.hint_index();
  message.hint_term = wire.hint_term();
  message.context = wire.context();
  if (message.type == MessageType::kSnapshot) {
    if (!wire.has_snapshot()) return refuse("a snapshot message names no image");
    message.snapshot.index = wire.snapshot().index();
    message.snapshot.term = wire.snapshot().term();
    message.snapshot.conf = conf_from_wire(wire.snapshot().conf());
  }
  return message;
}

void to_wire(const ConfChange& change, raftpb::ConfChange* wire) {
  wire->set_op(static_cast<raftpb::ConfChangeOp>(change.op));
  wire->set_node(change.node);
}

Result<ConfChange> from_wire(const raftpb::ConfChange& wire) {
  if (wire.op() < raftpb::ADD_VOTER || wire.op() > raftpb::REMOVE_NODE) {
    return Status::invalid_argument("net: configuration change op " + std::to_string(wire.op()) +
                                    " is unknown");
  }
  return ConfChange{static_cast<ConfChangeOp>(wire.op()), wire.node()};
}

Status status_from_wire(uint32_t code, const std::string& message, uint32_t detail) {
  if (code > static_cast<uint32_t>(kLastStatusCode)) {
    return Status::internal("net: a peer answered with unknown status code " +
                            std::to_string(code) + ": " + message);
  }
  return {static_cast<StatusCode>(code), message, error_detail_from_wire(detail)};
}

}  // namespace dengine::net
