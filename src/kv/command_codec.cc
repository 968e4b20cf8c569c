#include "kv/command_codec.h"

#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "common/byte_codec.h"
#include "kv/member_codec.h"

namespace dengine::kv {
namespace {

using kv_limits::kMaxCommandBytes;
using kv_limits::kMaxKeyBytes;
using kv_limits::kMaxTxnDepth;
using kv_limits::kMaxTxnOps;
using kv_limits::kMaxValueBytes;

enum class CommandKind : uint8_t {
  kPut = 1,
  kDeleteRange = 2,
  kTxn = 3,
  kCompaction = 4,
  kLeaseGrant = 5,
  kLeaseRevoke = 6,
  kLeaseCheckpoint = 7,
  kMemberPeerUrls = 8,
  kMemberPublish = 9,
  kMemberRemove = 10,
  kAlarm = 11,
};

enum class OpTag : uint8_t { kRange = 1, kPut = 2, kDeleteRange = 3, kTxn = 4 };

constexpr uint8_t kPutPrevKv = 1;
constexpr uint8_t kPutIgnoreValue = 2;
constexpr uint8_t kPutIgnoreLease = 4;
constexpr uint8_t kDeletePrevKv = 1;
constexpr uint8_t kRangeKeysOnly = 1;
constexpr uint8_t kRangeCountOnly = 2;

constexpr uint8_t kMaxSortOrder = static_cast<uint8_t>(SortOrder::kDescend);
constexpr uint8_t kMaxSortTarget = static_cast<uint8_t>(SortTarget::kValue);
constexpr uint8_t kMaxCompareResult = static_cast<uint8_t>(CompareResult::kNotEqual);
constexpr uint8_t kMaxCompareTarget = static_cast<uint8_t>(CompareTarget::kLease);

// Smallest encodings, so a forged count is rejected before anything is allocated.
constexpr size_t kMinCompareBytes = 1 + 1 + 4 + 4 + 8 * 4 + 4;
constexpr size_t kMinOpBytes = 1 + 4 + 4 + 1;  // a delete with empty key and range end
constexpr size_t kCheckpointBytes = 16;

// ---- encoding ----

class Encoder {
 public:
  void command(const KvCommand& command) {
    out_.u8(kCommandFormatVersion);
    std::visit([this](const auto& request) { body(request); }, command);
  }

  Result<std::string> finish() {
    if (!status_) return status_;
    if (out_.size() > kMaxCommandBytes) return Status::of(ErrorDetail::kRequestTooLarge);
    return out_.take();
  }

 private:
  void body(const PutRequest& r) {
    out_.u8(static_cast<uint8_t>(CommandKind::kPut));
    put(r);
  }
  void body(const DeleteRangeRequest& r) {
    out_.u8(static_cast<uint8_t>(CommandKind::kDeleteRange));
    delete_range(r);
  }
  void body(const TxnRequest& r) {
    out_.u8(static_cast<uint8_t>(CommandKind::kTxn));
    txn(r, 1);
  }
  void body(const CompactionRequest& r) {
    out_.u8(static_cast<uint8_t>(CommandKind::kCompaction));
    out_.i64(r.revision);
  }
  void body(const LeaseGrantRequest& r) {
    out_.u8(static_cast<uint8_t>(CommandKind::kLeaseGrant));
    out_.i64(r.id);
    out_.i64(r.ttl_seconds);
  }
  void body(const LeaseRevokeRequest& r) {
    out_.u8(static_cast<uint8_t>(CommandKind::kLeaseRevoke));
    out_.i64(r.id);
  }
  void body(const LeaseCheckpointRequest& r) {
    out_.u8(static_cast<uint8_t>(CommandKind::kLeaseCheckpoint));
    if (r.checkpoints.size() > kv_limits::kMaxLeaseCheckpointsPerCommand) {
      fail(Status::invalid_argument("kv: " + std::to_string(r.checkpoints.size()) +
                                    " lease checkpoints in one command exceed the bound of " +
                                    std::to_string(kv_limits::kMaxLeaseCheckpointsPerCommand)));
      return;
    }
    out_.count(r.checkpoints.size());
    for (const LeaseCheckpoint& checkpoint : r.checkpoints) {
      out_.i64(checkpoint.id);
      out_.i64(checkpoint.remaining_ttl_seconds);
    }
  }

  void body(const MemberPeerUrlsRequest& r) {
    out_.u8(static_cast<uint8_t>(CommandKind::kMemberPeerUrls));
    member_id(r.id);
    fail_unless(check_member_fields({}, r.peer_urls, {}));
    write_urls(out_, r.peer_urls);
  }
  void body(const MemberPublishRequest& r) {
    out_.u8(static_cast<uint8_t>(CommandKind::kMemberPublish));
    member_id(r.id);
    fail_unless(check_member_fields(r.name, r.peer_urls, r.client_urls));
    out_.bytes(r.name);
    write_urls(out_, r.client_urls);
    write_urls(out_, r.peer_urls);
  }
  void body(const MemberRemoveRequest& r) {
    out_.u8(static_cast<uint8_t>(CommandKind::kMemberRemove));
    member_id(r.id);
  }
  void body(const AlarmChangeRequest& r) {
    out_.u8(static_cast<uint8_t>(CommandKind::kAlarm));
    out_.u8(r.activate ? 1 : 0);
    member_id(r.alarm.member);
    out_.u8(static_cast<uint8_t>(r.alarm.type));
  }
  void member_id(NodeId id) {
    if (id == kNoNode) fail(Status::invalid_argument("kv: a member command names member 0"));
    out_.u64(id);
  }
  void fail_unless(Status status) {
    if (!status) fail(std::move(status));
  }

  void put(const PutRequest& r) {
    bytes(r.key, kMaxKeyBytes, "key");
    bytes(r.value, kMaxValueBytes, "value");
    out_.i64(r.lease);
    out_.u8(static_cast<uint8_t>((r.prev_kv ? kPutPrevKv : 0) |
                                 (r.ignore_value ? kPutIgnoreValue : 0) |
                                 (r.ignore_lease ? kPutIgnoreLease : 0)));
  }
  void delete_range(const DeleteRangeRequest& r) {
    bytes(r.key, kMaxKeyBytes, "key");
    bytes(r.range_end, kMaxKeyBytes, "range end");
    out_.u8(r.prev_kv ? kDeletePrevKv : 0);
  }
  void range(const RangeRequest& r) {
    bytes(r.key, kMaxKeyBytes, "key");
    bytes(r.range_end, kMaxKeyBytes, "range end");
    out_.i64(r.limit);
    out_.i64(r.revision);
    out_.u8(static_cast<uint8_t>(r.sort_order));
    out_.u8(static_cast<uint8_t>(r.sort_target));
    out_.u8(static_cast<uint8_t>((r.keys_only ? kRangeKeysOnly : 0) |
                                 (r.count_only ? kRangeCountOnly : 0)));
    out_.i64(r.min_mod_revision);
    out_.i64(r.max_mod_revision);
    out_.i64(r.min_create_revision);
    out_.i64(r.max_create_revision);
  }
  void compare(const Compare& c) {
    out_.u8(static_cast<uint8_t>(c.result));
    out_.u8(static_cast<uint8_t>(c.target));
    bytes(c.key, kMaxKeyBytes, "compare key");
    bytes(c.range_end, kMaxKeyBytes, "compare range end");
    out_.i64(c.version);
    out_.i64(c.create_revision);
    out_.i64(c.mod_revision);
    out_.i64(c.lease);
    bytes(c.value, kMaxValueBytes, "compare value");
  }
  void txn(const TxnRequest& r, size_t depth) {
    if (depth > kMaxTxnDepth) {
      fail(Status::invalid_argument("kv: txn nesting deeper than " + std::to_string(kMaxTxnDepth) +
                                    " levels"));
      return;
    }
    if (r.compare.size() > kMaxTxnOps || r.success.size() > kMaxTxnOps ||
        r.failure.size() > kMaxTxnOps) {
      fail(Status::of(ErrorDetail::kTooManyOps));
      return;
    }
    out_.count(r.compare.size());
    for (const Compare& c : r.compare) compare(c);
    for (const auto* ops : {&r.success, &r.failure}) {
      out_.count(ops->size());
      for (const RequestOp& op : *ops) request_op(op, depth);
    }
  }
  void request_op(const RequestOp& op, size_t depth) {
    if (!status_) return;
    std::visit(
        [&](const auto& request) {
          using T = std::decay_t<decltype(request)>;
          if constexpr (std::is_same_v<T, RangeRequest>) {
            out_.u8(static_cast<uint8_t>(OpTag::kRange));
            range(request);
          } else if constexpr (std::is_same_v<T, PutRequest>) {
            out_.u8(static_cast<uint8_t>(OpTag::kPut));
            put(request);
          } else if constexpr (std::is_same_v<T, DeleteRangeRequest>) {
            out_.u8(static_cast<uint8_t>(OpTag::kDeleteRange));
            delete_range(request);
          } else {
            out_.u8(static_cast<uint8_t>(OpTag::kTxn));
            txn(request, depth + 1);
          }
        },
        op.request);
  }

  void bytes(std::string_view data, size_t max_bytes, std::string_view what) {
    if (data.size() > max_bytes) {
      fail(Status::invalid_argument("kv: " + std::string(what) + " of " +
                                    std::to_string(data.size()) + " bytes exceeds the bound of " +
                                    std::to_string(max_bytes) + " bytes"));
      return;
    }
    // Checked as we go, so an oversized txn stops growing the buffer early.
    if (out_.size() + data.size() > kMaxCommandBytes) {
      fail(Status::of(ErrorDetail::kRequestTooLarge));
      return;
    }
    out_.bytes(data);
  }
  void fail(Status status) {
    if (status_) status_ = std::move(status);
  }

  ByteWriter out_;
  Status status_;
};

// ---- decoding ----

class Decoder {
 public:
  explicit Decoder(std::string_view encoded) : in_(encoded, "kv command") {}

  Result<KvCommand> command() {
    const uint8_t format = in_.u8("format version");
    if (!in_.ok()) return in_.status();
    if (format != kCommandFormatVersion) {
      return Status::failed_precondition("kv command: format version " + std::to_string(format) +
                                         " is not one this build reads (it reads version " +
                                         std::to_string(kCommandFormatVersion) + ")");
    }
    KvCommand command = PutRequest{};
    switch (static_cast<CommandKind>(in_.u8("command kind"))) {
      case CommandKind::kPut: command = put(); break;
      case CommandKind::kDeleteRange: command = delete_range(); break;
      case CommandKind::kTxn: command = txn(1); break;
      case CommandKind::kCompaction:
        command = CompactionRequest{in_.i64("compact revision")};
        break;
      case CommandKind::kLeaseGrant: {
        LeaseGrantRequest grant;
        grant.id = in_.i64("lease id");
        grant.ttl_seconds = in_.i64("lease ttl");
        command = grant;
        break;
      }
      case CommandKind::kLeaseRevoke: command = LeaseRevokeRequest{in_.i64("lease id")}; break;
      case CommandKind::kLeaseCheckpoint: command = checkpoints(); break;
      case CommandKind::kMemberPeerUrls: {
        MemberPeerUrlsRequest request;
        request.id = member_id();
        request.peer_urls = read_urls(in_, "member peer URLs");
        command = std::move(request);
        break;
      }
      case CommandKind::kMemberPublish: {
        MemberPublishRequest request;
        request.id = member_id();
        request.name = in_.bytes("member name", kMaxMemberNameBytes);
        request.client_urls = read_urls(in_, "member client URLs");
        request.peer_urls = read_urls(in_, "member peer URLs");
        command = std::move(request);
        break;
      }
      case CommandKind::kMemberRemove: command = MemberRemoveRequest{member_id()}; break;
      case CommandKind::kAlarm: {
        AlarmChangeRequest request;
        request.activate = in_.boolean("alarm action");
        request.alarm.member = member_id();
        const uint8_t type = in_.u8("alarm type");
        if (in_.ok() && (type < 1 || type > 2)) in_.fail("alarm type", "is unknown");
        request.alarm.type = static_cast<AlarmType>(type);
        command = request;
        break;
      }
      default: in_.fail("command kind", "is unknown");
    }
    if (in_.ok() && !in_.at_end()) in_.fail("command", "is followed by unexpected bytes");
    if (!in_.ok()) return in_.status();
    return command;
  }

 private:
  NodeId member_id() {
    const NodeId id = in_.u64("member id");
    if (in_.ok() && id == kNoNode) in_.fail("member id", "is 0");
    return id;
  }
  PutRequest put() {
    PutRequest r;
    r.key = in_.bytes("key", kMaxKeyBytes);
    r.value = in_.bytes("value", kMaxValueBytes);
    r.lease = in_.i64("lease");
    const uint8_t flags = flag_bits("put flags", kPutPrevKv | kPutIgnoreValue | kPutIgnoreLease);
    r.prev_kv = (flags & kPutPrevKv) != 0;
    r.ignore_value = (flags & kPutIgnoreValue) != 0;
    r.ignore_lease = (flags & kPutIgnoreLease) != 0;
    return r;
  }
  DeleteRangeRequest delete_range() {
    DeleteRangeRequest r;
    r.key = in_.bytes("key", kMaxKeyBytes);
    r.range_end = in_.bytes("range end", kMaxKeyBytes);
    r.prev_kv = (flag_bits("delete flags", kDeletePrevKv) & kDeletePrevKv) != 0;
    return r;
  }
  RangeRequest range() {
    RangeRequest r;
    r.key = in_.bytes("key", kMaxKeyBytes);
    r.range_end = in_.bytes("range end", kMaxKeyBytes);
    r.limit = in_.i64("limit");
    r.revision = in_.i64("revision");
    r.sort_order = static_cast<SortOrder>(enum_byte("sort order", kMaxSortOrder));
    r.sort_target = static_cast<SortTarget>(enum_byte("sort target", kMaxSortTarget));
    const uint8_t flags = flag_bits("range flags", kRangeKeysOnly | kRangeCountOnly);
    r.keys_only = (flags & kRangeKeysOnly) != 0;
    r.count_only = (flags & kRangeCountOnly) != 0;
    r.min_mod_revision = in_.i64("min mod revision");
    r.max_mod_revision = in_.i64("max mod revision");
    r.min_create_revision = in_.i64("min create revision");
    r.max_create_revision = in_.i64("max create revision");
    return r;
  }
  Compare compare() {
    Compare c;
    c.result = static_cast<CompareResult>(enum_byte("compare result", kMaxCompareResult));
    c.target = static_cast<CompareTarget>(enum_byte("compare target", kMaxCompareTarget));
    c.key = in_.bytes("compare key", kMaxKeyBytes);
    c.range_end = in_.bytes("compare range end", kMaxKeyBytes);
    c.version = in_.i64("compare version");
    c.create_revision = in_.i64("compare create revision");
    c.mod_revision = in_.i64("compare mod revision");
    c.lease = in_.i64("compare lease");
    c.value = in_.bytes("compare value", kMaxValueBytes);
    return c;
  }
  TxnRequest txn(size_t depth) {
    TxnRequest r;
    if (depth > kMaxTxnDepth) {
      in_.fail("txn", "nests deeper than " + std::to_string(kMaxTxnDepth) + " levels");
      return r;
    }
    const size_t compares = in_.count("compare count", kMaxTxnOps, kMinCompareBytes);
    for (size_t i = 0; i < compares && in_.ok(); ++i) r.compare.push_back(compare());
    for (auto* ops : {&r.success, &r.failure}) {
      const size_t n = in_.count("op count", kMaxTxnOps, kMinOpBytes);
      for (size_t i = 0; i < n && in_.ok(); ++i) ops->push_back(request_op(depth));
    }
    return r;
  }
  RequestOp request_op(size_t depth) {
    switch (static_cast<OpTag>(in_.u8("op tag"))) {
      case OpTag::kRange: return RequestOp{range()};
      case OpTag::kPut: return RequestOp{put()};
      case OpTag::kDeleteRange: return RequestOp{delete_range()};
      case OpTag::kTxn: return RequestOp{txn(depth + 1)};
    }
    in_.fail("op tag", "is unknown");
    return RequestOp{RangeRequest{}};
  }
  LeaseCheckpointRequest checkpoints() {
    LeaseCheckpointRequest r;
    const size_t n =
        in_.count("checkpoint count", kv_limits::kMaxLeaseCheckpointsPerCommand, kCheckpointBytes);
    for (size_t i = 0; i < n && in_.ok(); ++i) {
      LeaseCheckpoint checkpoint;
      checkpoint.id = in_.i64("checkpoint lease id");
      checkpoint.remaining_ttl_seconds = in_.i64("checkpoint remaining ttl");
      r.checkpoints.push_back(checkpoint);
    }
    return r;
  }

  uint8_t enum_byte(std::string_view field, uint8_t max_value) {
    const uint8_t value = in_.u8(field);
    if (value > max_value) {
      in_.fail(field, "has unknown value " + std::to_string(value));
      return 0;
    }
    return value;
  }
  uint8_t flag_bits(std::string_view field, uint8_t known_bits) {
    const uint8_t value = in_.u8(field);
    if ((value & ~known_bits) != 0) {
      in_.fail(field, "has unknown bits " + std::to_string(value & ~known_bits));
      return 0;
    }
    return value;
  }

  ByteReader in_;
};

}  // namespace

Result<std::string> encode_command(const KvCommand& command) {
  Encoder encoder;
  encoder.command(command);
  return encoder.finish();
}

Result<KvCommand> decode_command(std::string_view encoded) {
  Decoder decoder(encoded);
  return decoder.command();
}

}  // namespace dengine::kv
