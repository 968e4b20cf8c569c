#include "net/outcome_codec.h"

#include <variant>

#include "common/byte_codec.h"
#include "dengine/kv_types.h"

namespace dengine::net {
namespace {

// 2: the status carries its ErrorDetail.
constexpr uint8_t kVersion = 2;
constexpr std::string_view kFormat = "forwarded outcome";
// The smallest encoded kv: two empty byte strings and four i64s.
constexpr size_t kMinKvBytes = 4 + 4 + 4 * 8;
constexpr size_t kMaxMessageBytes = 64 * 1024;

enum class Kind : uint8_t {
  kNone = 0,
  kPut = 1,
  kDelete = 2,
  kTxn = 3,
  kCompact = 4,
  kGrant = 5,
  kRevoke = 6,
  kCheckpoint = 7,
};
enum class OpTag : uint8_t { kRange = 1, kPut = 2, kDelete = 3, kTxn = 4 };

class Encoder {
 public:
  void kv(const KeyValue& kv) {
    out.bytes(kv.key);
    out.bytes(kv.value);
    out.i64(kv.create_revision);
    out.i64(kv.mod_revision);
    out.i64(kv.version);
    out.i64(kv.lease);
  }
  void kvs(const std::vector<KeyValue>& kvs) {
    out.count(kvs.size());
    for (const KeyValue& each : kvs) kv(each);
  }
  void body(const RangeResponse& r) {
    out.i64(r.revision);
    kvs(r.kvs);
    out.u8(r.more ? 1 : 0);
    out.i64(r.count);
  }
  void body(const PutResponse& r) {
    out.i64(r.revision);
    out.u8(r.prev_kv ? 1 : 0);
    if (r.prev_kv) kv(*r.prev_kv);
  }
  void body(const DeleteRangeResponse& r) {
    out.i64(r.revision);
    out.i64(r.deleted);
    kvs(r.prev_kvs);
  }
  void body(const TxnResponse& r) {
    out.i64(r.revision);
    out.u8(r.succeeded ? 1 : 0);
    out.count(r.responses.size());
    for (const ResponseOp& op : r.responses) {
      std::visit(
          [this](const auto& response) {
            using T = std::decay_t<decltype(response)>;
            if constexpr (std::is_same_v<T, RangeResponse>) out.u8(uint8_t(OpTag::kRange));
            if constexpr (std::is_same_v<T, PutResponse>) out.u8(uint8_t(OpTag::kPut));
            if constexpr (std::is_same_v<T, DeleteRangeResponse>) out.u8(uint8_t(OpTag::kDelete));
            if constexpr (std::is_same_v<T, TxnResponse>) out.u8(uint8_t(OpTag::kTxn));
            body(response);
          },
          op.response);
    }
  }
  void response(const KvResponse& response) {
    std::visit(
        [this](const auto& r) {
          using T = std::decay_t<decltype(r)>;
          if constexpr (std::is_same_v<T, std::monostate>) {
            out.u8(uint8_t(Kind::kNone));
          } else if constexpr (std::is_same_v<T, PutResponse>) {
            out.u8(uint8_t(Kind::kPut));
            body(r);
          } else if constexpr (std::is_same_v<T, DeleteRangeResponse>) {
            out.u8(uint8_t(Kind::kDelete));
            body(r);
          } else if constexpr (std::is_same_v<T, TxnResponse>) {
            out.u8(uint8_t(Kind::kTxn));
            body(r);
          } else if constexpr (std::is_same_v<T, CompactionResponse>) {
            out.u8(uint8_t(Kind::kCompact));
            out.i64(r.revision);
          } else if constexpr (std::is_same_v<T, LeaseGrantResponse>) {
            out.u8(uint8_t(Kind::kGrant));
            out.i64(r.revision);
            out.i64(r.id);
            out.i64(r.ttl_seconds);
          } else if constexpr (std::is_same_v<T, LeaseRevokeResponse>) {
            out.u8(uint8_t(Kind::kRevoke));
            out.i64(r.revision);
          } else {
            static_assert(std::is_same_v<T, LeaseCheckpointResponse>);
            out.u8(uint8_t(Kind::kCheckpoint));
            out.i64(r.revision);
          }
        },
        response);
  }

  ByteWriter out;
};

class Decoder {
 public:
  explicit Decoder(std::string_view input) : in(input, kFormat) {}

  KeyValue kv() {
    KeyValue kv;
    kv.key = in.bytes("key", kv_limits::kMaxKeyBytes);
    kv.value = in.bytes("value", kv_limits::kMaxValueBytes);
    kv.create_revision = in.i64("create revision");
    kv.mod_revision = in.i64("mod revision");
    kv.version = in.i64("version");
    kv.lease = in.i64("lease");
    return kv;
  }
  std::vector<KeyValue> kvs() {
    const size_t n = in.count("kv count", SIZE_MAX, kMinKvBytes);
    std::vector<KeyValue> kvs;
    kvs.reserve(n);
    for (size_t i = 0; i < n && in.ok(); ++i) kvs.push_back(kv());
    return kvs;
  }
  RangeResponse range() {
    RangeResponse r;
    r.revision = in.i64("range revision");
    r.kvs = kvs();
    r.more = in.boolean("range more");
    r.count = in.i64("range count");
    return r;
  }
  PutResponse put() {
    PutResponse r;
    r.revision = in.i64("put revision");
    if (in.boolean("put has prev kv")) r.prev_kv = kv();
    return r;
  }
  DeleteRangeResponse remove() {
    DeleteRangeResponse r;
    r.revision = in.i64("delete revision");
    r.deleted = in.i64("delete count");
    r.prev_kvs = kvs();
    return r;
  }
  TxnResponse txn(size_t depth) {
    TxnResponse r;
    if (depth > kv_limits::kMaxTxnDepth) {
      in.fail("txn", "nests deeper than " + std::to_string(kv_limits::kMaxTxnDepth));
      return r;
    }
    r.revision = in.i64("txn revision");
    r.succeeded = in.boolean("txn succeeded");
    const size_t n = in.count("txn op count", kv_limits::kMaxTxnOps, 1 + 8);
    for (size_t i = 0; i < n && in.ok(); ++i) {
      switch (static_cast<OpTag>(in.u8("txn op tag"))) {
        case OpTag::kRange: r.responses.push_back(ResponseOp{range()}); break;
        case OpTag::kPut: r.responses.push_back(ResponseOp{put()}); break;
        case OpTag::kDelete: r.responses.push_back(ResponseOp{remove()}); break;
        case OpTag::kTxn: r.responses.push_back(ResponseOp{txn(depth + 1)}); break;
        default: in.fail("txn op tag", "is not 1-4"); break;
      }
    }
    return r;
  }
  KvResponse response() {
    switch (static_cast<Kind>(in.u8("kind"))) {
      case Kind::kNone: return std::monostate{};
      case Kind::kPut: return put();
      case Kind::kDelete: return remove();
      case Kind::kTxn: return txn(0);
      case Kind::kCompact: return CompactionResponse{in.i64("compact revision")};
      case Kind::kGrant: {
        LeaseGrantResponse r;
        r.revision = in.i64("grant revision");
        r.id = in.i64("grant id");
        r.ttl_seconds = in.i64("grant ttl");
        return r;
      }
      case Kind::kRevoke: return LeaseRevokeResponse{in.i64("revoke revision")};
      case Kind::kCheckpoint: return LeaseCheckpointResponse{in.i64("checkpoint revision")};
    }
    in.fail("kind", "is not 0-7");
    return std::monostate{};
  }

  ByteReader in;
};

}  // namespace

std::string encode_outcome(const Result<ApplyResult>& outcome) {
  Encoder encoder;
  encoder.out.u8(kVersion);
  encoder.out.u8(outcome ? 1 : 0);
  const Status& status = outcome ? outcome->status : outcome.status();
  encoder.out.u8(static_cast<uint8_t>(status.code()));
  encoder.out.u16(static_cast<uint16_t>(status.detail()));
  encoder.out.bytes(status.message().substr(0, kMaxMessageBytes));
  encoder.out.i64(outcome ? outcome->revision : 0);
  encoder.out.u64(outcome ? outcome->log_index : 0);
  if (outcome && status.is_ok()) {
    encoder.response(outcome->response);
  } else {
    encoder.out.u8(uint8_t(Kind::kNone));
  }
  return encoder.out.take();
}

Result<ApplyResult> decode_outcome(std::string_view encoded) {
  Decoder decoder(encoded);
  ByteReader& in = decoder.in;
  const uint8_t version = in.u8("version");
  if (in.ok() && version != kVersion) {
    return Status::failed_precondition(std::string(kFormat) + ": version " +
                                       std::to_string(version) + " is not " +
                                       std::to_string(kVersion));
  }
  const bool applied = in.boolean("applied");
  const uint8_t code = in.u8("status code");
  if (in.ok() && code > static_cast<uint8_t>(kLastStatusCode)) {
    in.fail("status code", std::to_string(code) + " is unknown");
  }
  const ErrorDetail detail = error_detail_from_wire(in.u16("error detail"));
  std::string message = in.bytes("status message", kMaxMessageBytes);
  ApplyResult result;
  result.revision = in.i64("revision");
  result.log_index = in.u64("log index");
  result.response = decoder.response();
  if (in.ok() && !in.at_end()) in.fail("outcome", "is followed by more bytes");
  if (!in.ok()) return in.status();
  const auto status_code = static_cast<StatusCode>(code);
  if (!applied) {
    if (status_code == StatusCode::kOk) {
      return Status::corruption(std::string(kFormat) + ": a failure without a status code");
    }
    return Status(status_code, std::move(message), detail);
  }
  // An applied entry whose command failed (etcd's errors) still counts as applied.
  if (status_code != StatusCode::kOk)
    result.status = Status(status_code, std::move(message), detail);
  return result;
}

}  // namespace dengine::net
