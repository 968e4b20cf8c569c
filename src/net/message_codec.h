#pragma once

#include <cstdint>
#include <string>

// Between the engine's Raft messages (dengine/raft_message.h) and their wire form
// (proto/raftpb/raft.proto). Decoding is where bytes from another process enter the engine,
// so it checks what the core cannot: enum values this build knows, entries only where the
// protocol carries them.

#include "dengine/raft_message.h"
#include "dengine/status.h"
#include "raftpb/raft.pb.h"

namespace dengine::net {

void to_wire(const Message& message, raftpb::Message* wire);
// kInvalidArgument naming the field when the message is not one this build can step.
Result<Message> from_wire(const raftpb::Message& wire);

void to_wire(const ConfChange& change, raftpb::ConfChange* wire);
Result<ConfChange> from_wire(const raftpb::ConfChange& wire);

// A Status in a response's code and message fields; an unknown code is kInternal naming it.
uint32_t code_to_wire(StatusCode code);
Status status_from_wire(uint32_t code, const std::string& message);

}  // namespace dengine::net
