#pragma once

#include <cstdint>
#include <string>

// Between the engine's Raft messages (raft/raft_message.h) and their wire form
// (proto/raftpb/raft.proto). Decoding is where bytes from another process enter the engine,
// so it checks what the core cannot: enum values this build knows, entries only where the
// protocol carries them.

#include "dengine/status.h"
#include "raft/raft_message.h"
#include "raftpb/raft.pb.h"

namespace dengine::net {

void to_wire(const Message& message, raftpb::Message* wire);
// kInvalidArgument naming the field when the message is not one this build can step.
Result<Message> from_wire(const raftpb::Message& wire);

void to_wire(const ConfChange& change, raftpb::ConfChange* wire);
Result<ConfChange> from_wire(const raftpb::ConfChange& wire);

// A Status in a response's code, message and detail fields; an unknown code is kInternal
// naming it, an unknown detail (from a newer member) none.
Status status_from_wire(uint32_t code, const std::string& message, uint32_t detail);

template <typename Response>
void status_to_wire(const Status& status, Response* response) {
  response->set_code(static_cast<uint32_t>(status.code()));
  response->set_message(status.message());
  response->set_detail(static_cast<uint32_t>(status.detail()));
}

template <typename Response>
Status status_from_wire(const Response& response) {
  return status_from_wire(response.code(), response.message(), response.detail());
}

}  // namespace dengine::net
