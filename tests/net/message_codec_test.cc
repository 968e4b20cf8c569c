#include "net/message_codec.h"

#include <gtest/gtest.h>

namespace dengine::net {
namespace {

Message every_field_set(MessageType type) {
  Message message;
  message.type = type;
  message.from = 0x8e9e05c52164694dULL;  // etcd-sized member ids
  message.to = 3;
  message.term = 7;
  message.index = 41;
  message.log_term = 6;
  if (type == MessageType::kAppend) {
    message.entries = {Entry{.term = 6, .index = 42, .type = EntryType::kNormal, .data = "put"},
                       Entry{.term = 7, .index = 43, .type = EntryType::kNoOp, .data = ""},
                       Entry{.term = 7,
                             .index = 44,
                             .type = EntryType::kConfChange,
                             .data = std::string("\0\xff", 2)}};
  }
  message.commit = 40;
  message.reject = true;
  message.hint_index = 39;
  message.hint_term = 5;
  message.context = 99;
  if (type == MessageType::kSnapshot) {
    message.snapshot =
        SnapshotMeta{.index = 30,
                     .term = 4,
                     .conf = {.voters = {1, 2, 3}, .voters_outgoing = {1, 2}, .learners = {4}}};
  }
  return message;
}

Result<Message> round_trip(const Message& message) {
  raftpb::Message wire;
  to_wire(message, &wire);
  raftpb::Message parsed;
  EXPECT_TRUE(parsed.ParseFromString(wire.SerializeAsString()));
  return from_wire(parsed);
}

TEST(MessageCodec, EveryMessageTypeSurvivesTheWireUnchanged) {
  for (int type = 0; type <= static_cast<int>(MessageType::kTimeoutNow); ++type) {
    const Message message = every_field_set(static_cast<MessageType>(type));
    Result<Message> decoded = round_trip(message);
    ASSERT_TRUE(decoded) << decoded.status().message();
    EXPECT_EQ(decoded->type, message.type);
    EXPECT_EQ(decoded->from, message.from);
    EXPECT_EQ(decoded->to, message.to);
    EXPECT_EQ(decoded->term, message.term);
    EXPECT_EQ(decoded->index, message.index);
    EXPECT_EQ(decoded->log_term, message.log_term);
    EXPECT_EQ(decoded->entries, message.entries);
    EXPECT_EQ(decoded->commit, message.commit);
    EXPECT_EQ(decoded->reject, message.reject);
    EXPECT_EQ(decoded->hint_index, message.hint_index);
    EXPECT_EQ(decoded->hint_term, message.hint_term);
    EXPECT_EQ(decoded->context, message.context);
    EXPECT_EQ(decoded->snapshot, message.snapshot);
  }
}

TEST(MessageCodec, AnUnknownMessageTypeIsRefusedNamingIt) {
  raftpb::Message wire;
  wire.set_type(static_cast<raftpb::MessageType>(57));
  Result<Message> decoded = from_wire(wire);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(decoded.status().message().find("unknown message type 57"), std::string::npos);
}

TEST(MessageCodec, AnEntryOfAnUnknownTypeIsRefusedNamingItsIndex) {
  raftpb::Message wire;
  wire.set_type(raftpb::APPEND);
  raftpb::Entry* entry = wire.add_entries();
  entry->set_index(12);
  entry->set_type(static_cast<raftpb::EntryType>(9));
  Result<Message> decoded = from_wire(wire);
  ASSERT_FALSE(decoded);
  EXPECT_NE(decoded.status().message().find("entry 12 has unknown type 9"), std::string::npos);
}

TEST(MessageCodec, EntriesOutsideAnAppendAreRefused) {
  raftpb::Message wire;
  wire.set_type(raftpb::HEARTBEAT);
  wire.add_entries()->set_index(1);
  Result<Message> decoded = from_wire(wire);
  ASSERT_FALSE(decoded);
  EXPECT_NE(decoded.status().message().find("carries entries"), std::string::npos);
}

TEST(MessageCodec, ASnapshotMessageWithoutItsImageIsRefused) {
  raftpb::Message wire;
  wire.set_type(raftpb::SNAPSHOT);
  EXPECT_FALSE(from_wire(wire));
}

TEST(MessageCodec, GarbageBytesNeverBecomeAMessageSilently) {
  // Whatever protobuf makes of random bytes, decoding either refuses it or yields a message
  // whose enums are in range: it never crashes or invents an unknown type.
  uint64_t seed = 12345;
  for (int round = 0; round < 2000; ++round) {
    std::string bytes(static_cast<size_t>(round % 97), '\0');
    for (char& byte : bytes) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      byte = static_cast<char>(seed >> 56);
    }
    raftpb::Message wire;
    if (!wire.ParseFromString(bytes)) continue;
    Result<Message> decoded = from_wire(wire);
    if (!decoded) continue;
    EXPECT_LE(static_cast<int>(decoded->type), static_cast<int>(MessageType::kTimeoutNow));
  }
}

}  // namespace
}  // namespace dengine::net
