#include "client/client_codec.h"

#include <type_traits>
#include <variant>

namespace dengine::client {
namespace {

template <typename To, typename From>
To same_number(From value) {
  return static_cast<To>(static_cast<int>(value));
}

void op_to_wire(const RequestOp& op, etcdserverpb::RequestOp* wire) {
  std::visit(
      [&](const auto& request) {
        using T = std::decay_t<decltype(request)>;
        if constexpr (std::is_same_v<T, RangeRequest>) {
          to_wire(request, wire->mutable_request_range());
        } else if constexpr (std::is_same_v<T, PutRequest>) {
          to_wire(request, wire->mutable_request_put());
        } else if constexpr (std::is_same_v<T, DeleteRangeRequest>) {
          to_wire(request, wire->mutable_request_delete_range());
        } else {
          to_wire(request, wire->mutable_request_txn());
        }
      },
      op.request);
}

ResponseOp op_from_wire(const etcdserverpb::ResponseOp& wire) {
  ResponseOp op;
  switch (wire.response_case()) {
    case etcdserverpb::ResponseOp::kResponseRange:
      op.response = from_wire(wire.response_range());
      break;
    case etcdserverpb::ResponseOp::kResponsePut:
      op.response = from_wire(wire.response_put());
      break;
    case etcdserverpb::ResponseOp::kResponseDeleteRange:
      op.response = from_wire(wire.response_delete_range());
      break;
    case etcdserverpb::ResponseOp::kResponseTxn:
      op.response = from_wire(wire.response_txn());
      break;
    case etcdserverpb::ResponseOp::RESPONSE_NOT_SET: op.response = RangeResponse{}; break;
  }
  return op;
}

}  // namespace

void to_wire(const RangeRequest& request, etcdserverpb::RangeRequest* wire) {
  wire->set_key(request.key);
  wire->set_range_end(request.range_end);
  wire->set_limit(request.limit);
  wire->set_revision(request.revision);
  wire->set_sort_order(same_number<etcdserverpb::RangeRequest::SortOrder>(request.sort_order));
  wire->set_sort_target(same_number<etcdserverpb::RangeRequest::SortTarget>(request.sort_target));
  wire->set_keys_only(request.keys_only);
  wire->set_count_only(request.count_only);
  wire->set_min_mod_revision(request.min_mod_revision);
  wire->set_max_mod_revision(request.max_mod_revision);
  wire->set_min_create_revision(request.min_create_revision);
  wire->set_max_create_revision(request.max_create_revision);
}

void to_wire(const PutRequest& request, etcdserverpb::PutRequest* wire) {
  wire->set_key(request.key);
  wire->set_value(request.value);
  wire->set_lease(request.lease);
  wire->set_prev_kv(request.prev_kv);
  wire->set_ignore_value(request.ignore_value);
  wire->set_ignore_lease(request.ignore_lease);
}

void to_wire(const DeleteRangeRequest& request, etcdserverpb::DeleteRangeRequest* wire) {
  wire->set_key(request.key);
  wire->set_range_end(request.range_end);
  wire->set_prev_kv(request.prev_kv);
}

void to_wire(const Compare& compare, etcdserverpb::Compare* wire) {
  wire->set_result(same_number<etcdserverpb::Compare::CompareResult>(compare.result));
  wire->set_target(same_number<etcdserverpb::Compare::CompareTarget>(compare.target));
  wire->set_key(compare.key);
  wire->set_range_end(compare.range_end);
  // Only the operand of the target: the others are the oneof's other alternatives.
  switch (compare.target) {
    case CompareTarget::kVersion: wire->set_version(compare.version); break;
    case CompareTarget::kCreate: wire->set_create_revision(compare.create_revision); break;
    case CompareTarget::kMod: wire->set_mod_revision(compare.mod_revision); break;
    case CompareTarget::kValue: wire->set_value(compare.value); break;
    case CompareTarget::kLease: wire->set_lease(compare.lease); break;
  }
}

void to_wire(const TxnRequest& request, etcdserverpb::TxnRequest* wire) {
  for (const Compare& compare : request.compare) to_wire(compare, wire->add_compare());
  for (const RequestOp& op : request.success) op_to_wire(op, wire->add_success());
  for (const RequestOp& op : request.failure) op_to_wire(op, wire->add_failure());
}

KeyValue from_wire(const mvccpb::KeyValue& wire) {
  return KeyValue{.key = wire.key(),
                  .create_revision = wire.create_revision(),
                  .mod_revision = wire.mod_revision(),
                  .version = wire.version(),
                  .value = wire.value(),
                  .lease = wire.lease()};
}

Event from_wire(const mvccpb::Event& wire) {
  Event event;
  event.type = wire.type() == mvccpb::Event::DELETE ? EventType::kDelete : EventType::kPut;
  event.kv = from_wire(wire.kv());
  if (wire.has_prev_kv()) event.prev_kv = from_wire(wire.prev_kv());
  return event;
}

RangeResponse from_wire(const etcdserverpb::RangeResponse& wire) {
  RangeResponse response;
  response.revision = wire.header().revision();
  response.kvs.reserve(static_cast<size_t>(wire.kvs_size()));
  for (const auto& kv : wire.kvs()) response.kvs.push_back(from_wire(kv));
  response.more = wire.more();
  response.count = wire.count();
  return response;
}

PutResponse from_wire(const etcdserverpb::PutResponse& wire) {
  PutResponse response;
  response.revision = wire.header().revision();
  if (wire.has_prev_kv()) response.prev_kv = from_wire(wire.prev_kv());
  return response;
}

DeleteRangeResponse from_wire(const etcdserverpb::DeleteRangeResponse& wire) {
  DeleteRangeResponse response;
  response.revision = wire.header().revision();
  response.deleted = wire.deleted();
  for (const auto& kv : wire.prev_kvs()) response.prev_kvs.push_back(from_wire(kv));
  return response;
}

TxnResponse from_wire(const etcdserverpb::TxnResponse& wire) {
  TxnResponse response;
  response.revision = wire.header().revision();
  response.succeeded = wire.succeeded();
  for (const auto& op : wire.responses()) response.responses.push_back(op_from_wire(op));
  return response;
}

}  // namespace dengine::client
