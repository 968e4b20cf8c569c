#include "api/etcd_codec.h"

#include <variant>

namespace dengine::api {
namespace {

// The wire enums carry etcd's numbers, which the engine's enums share.
template <typename To, typename From>
To same_number(From value) {
  return static_cast<To>(static_cast<int>(value));
}

RequestOp op_from_wire(const etcdserverpb::RequestOp& wire) {
  RequestOp op;
  switch (wire.request_case()) {
    case etcdserverpb::RequestOp::kRequestRange:
      op.request = from_wire(wire.request_range());
      break;
    case etcdserverpb::RequestOp::kRequestPut: op.request = from_wire(wire.request_put()); break;
    case etcdserverpb::RequestOp::kRequestDeleteRange:
      op.request = from_wire(wire.request_delete_range());
      break;
    case etcdserverpb::RequestOp::kRequestTxn: op.request = from_wire(wire.request_txn()); break;
    case etcdserverpb::RequestOp::REQUEST_NOT_SET:
      // etcd refuses an empty op as "key not found"; an empty range request does the same
      // through the engine's checks (its key is empty).
      op.request = RangeRequest{};
      break;
  }
  return op;
}

void op_to_wire(const ResponseOp& op, etcdserverpb::ResponseOp* wire) {
  std::visit(
      [&](const auto& response) {
        using T = std::decay_t<decltype(response)>;
        if constexpr (std::is_same_v<T, RangeResponse>) {
          to_wire(response, wire->mutable_response_range());
        } else if constexpr (std::is_same_v<T, PutResponse>) {
          to_wire(response, wire->mutable_response_put());
        } else if constexpr (std::is_same_v<T, DeleteRangeResponse>) {
          to_wire(response, wire->mutable_response_delete_range());
        } else {
          to_wire(response, wire->mutable_response_txn());
        }
      },
      op.response);
}

}  // namespace

RangeRequest from_wire(const etcdserverpb::RangeRequest& wire) {
  RangeRequest request;
  request.key = wire.key();
  request.range_end = wire.range_end();
  request.limit = wire.limit();
  request.revision = wire.revision();
  request.sort_order = same_number<SortOrder>(wire.sort_order());
  request.sort_target = same_number<SortTarget>(wire.sort_target());
  request.keys_only = wire.keys_only();
  request.count_only = wire.count_only();
  request.min_mod_revision = wire.min_mod_revision();
  request.max_mod_revision = wire.max_mod_revision();
  request.min_create_revision = wire.min_create_revision();
  request.max_create_revision = wire.max_create_revision();
  return request;
}

PutRequest from_wire(const etcdserverpb::PutRequest& wire) {
  return PutRequest{.key = wire.key(),
                    .value = wire.value(),
                    .lease = wire.lease(),
                    .prev_kv = wire.prev_kv(),
                    .ignore_value = wire.ignore_value(),
                    .ignore_lease = wire.ignore_lease()};
}

DeleteRangeRequest from_wire(const etcdserverpb::DeleteRangeRequest& wire) {
  return DeleteRangeRequest{
      .key = wire.key(), .range_end = wire.range_end(), .prev_kv = wire.prev_kv()};
}

Compare from_wire(const etcdserverpb::Compare& wire) {
  Compare compare;
  compare.result = same_number<CompareResult>(wire.result());
  compare.target = same_number<CompareTarget>(wire.target());
  compare.key = wire.key();
  compare.range_end = wire.range_end();
  // The oneof's other alternatives read as zero, as etcd's getters do.
  compare.version = wire.version();
  compare.create_revision = wire.create_revision();
  compare.mod_revision = wire.mod_revision();
  compare.value = wire.value();
  compare.lease = wire.lease();
  return compare;
}

TxnRequest from_wire(const etcdserverpb::TxnRequest& wire) {
  TxnRequest txn;
  txn.compare.reserve(static_cast<size_t>(wire.compare_size()));
  for (const auto& compare : wire.compare()) txn.compare.push_back(from_wire(compare));
  for (const auto& op : wire.success()) txn.success.push_back(op_from_wire(op));
  for (const auto& op : wire.failure()) txn.failure.push_back(op_from_wire(op));
  return txn;
}

void to_wire(const KeyValue& kv, mvccpb::KeyValue* wire) {
  wire->set_key(kv.key);
  wire->set_create_revision(kv.create_revision);
  wire->set_mod_revision(kv.mod_revision);
  wire->set_version(kv.version);
  wire->set_value(kv.value);
  wire->set_lease(kv.lease);
}

void to_wire(const Event& event, mvccpb::Event* wire) {
  wire->set_type(event.type == EventType::kPut ? mvccpb::Event::PUT : mvccpb::Event::DELETE);
  to_wire(event.kv, wire->mutable_kv());
  if (event.prev_kv) to_wire(*event.prev_kv, wire->mutable_prev_kv());
}

void to_wire(const RangeResponse& response, etcdserverpb::RangeResponse* wire) {
  wire->mutable_header()->set_revision(response.revision);
  for (const KeyValue& kv : response.kvs) to_wire(kv, wire->add_kvs());
  wire->set_more(response.more);
  wire->set_count(response.count);
}

void to_wire(const PutResponse& response, etcdserverpb::PutResponse* wire) {
  wire->mutable_header()->set_revision(response.revision);
  if (response.prev_kv) to_wire(*response.prev_kv, wire->mutable_prev_kv());
}

void to_wire(const DeleteRangeResponse& response, etcdserverpb::DeleteRangeResponse* wire) {
  wire->mutable_header()->set_revision(response.revision);
  wire->set_deleted(response.deleted);
  for (const KeyValue& kv : response.prev_kvs) to_wire(kv, wire->add_prev_kvs());
}

void to_wire(const TxnResponse& response, etcdserverpb::TxnResponse* wire) {
  // etcd gives a nested txn's response an empty header, present but all zero.
  wire->mutable_header()->set_revision(response.revision);
  wire->set_succeeded(response.succeeded);
  for (const ResponseOp& op : response.responses) op_to_wire(op, wire->add_responses());
}

void to_wire(const CompactionResponse& response, etcdserverpb::CompactionResponse* wire) {
  wire->mutable_header()->set_revision(response.revision);
}

}  // namespace dengine::api
