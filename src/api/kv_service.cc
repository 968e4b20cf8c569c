#include "api/kv_service.h"

#include <utility>

#include "api/etcd_codec.h"
#include "api/etcd_status.h"
#include "dengine/embedded_engine.h"
#include "kv/request_validation.h"

namespace dengine::api {
namespace {

// The completion that answers a call: the engine's error as etcd's, or the response with its
// header.
template <typename WireResponse>
auto answer(grpc::ServerUnaryReactor* reactor, WireResponse* response, const MemberHeader& header) {
  return [reactor, response, &header](auto result) {
    if (!result) return reactor->Finish(to_grpc_status(result.status()));
    to_wire(*result, response);
    header.fill(response->mutable_header());
    reactor->Finish(grpc::Status::OK);
  };
}

grpc::ServerUnaryReactor* refuse(grpc::CallbackServerContext* context, const Status& why) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(to_grpc_status(why));
  return reactor;
}

// etcd refuses a proposal larger than --max-request-bytes (gRPC's own limit sits 512 KiB
// above it, so that this check, with etcd's text, is what a client meets).
Status check_size(const google::protobuf::Message& request, const KvServiceLimits& limits) {
  if (request.ByteSizeLong() > limits.max_request_bytes) {
    return Status::of(ErrorDetail::kRequestTooLarge);
  }
  return Status::ok();
}

Read consistency_of(bool serializable) {
  return serializable ? Read::Eventual : Read::Linearizable;
}

// etcd's isTxnSerializable: a txn made only of serializable ranges is served locally.
bool serializable_txn(const etcdserverpb::TxnRequest& txn) {
  for (const auto* ops : {&txn.success(), &txn.failure()}) {
    for (const etcdserverpb::RequestOp& op : *ops) {
      if (!op.has_request_range() || !op.request_range().serializable()) return false;
    }
  }
  return true;
}

}  // namespace

grpc::ServerUnaryReactor* KvService::Range(grpc::CallbackServerContext* context,
                                           const etcdserverpb::RangeRequest* request,
                                           etcdserverpb::RangeResponse* response) {
  RangeRequest range = from_wire(*request);
  if (Status checked = kv::check_range_request(range); !checked) return refuse(context, checked);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  header_.engine().client().async_range(std::move(range),
                                        {.consistency = consistency_of(request->serializable())},
                                        answer(reactor, response, header_));
  return reactor;
}

grpc::ServerUnaryReactor* KvService::Put(grpc::CallbackServerContext* context,
                                         const etcdserverpb::PutRequest* request,
                                         etcdserverpb::PutResponse* response) {
  PutRequest put = from_wire(*request);
  if (Status checked = kv::check_put_request(put); !checked) return refuse(context, checked);
  if (Status sized = check_size(*request, limits_); !sized) return refuse(context, sized);
  if (Status room = quota_.admit(BackendQuota::cost_of(put)); !room) return refuse(context, room);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  header_.engine().client().async_put(std::move(put), answer(reactor, response, header_));
  return reactor;
}

grpc::ServerUnaryReactor* KvService::DeleteRange(grpc::CallbackServerContext* context,
                                                 const etcdserverpb::DeleteRangeRequest* request,
                                                 etcdserverpb::DeleteRangeResponse* response) {
  DeleteRangeRequest erase = from_wire(*request);
  if (Status checked = kv::check_delete_request(erase); !checked) return refuse(context, checked);
  if (Status sized = check_size(*request, limits_); !sized) return refuse(context, sized);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  header_.engine().client().async_delete_range(std::move(erase),
                                               answer(reactor, response, header_));
  return reactor;
}

grpc::ServerUnaryReactor* KvService::Txn(grpc::CallbackServerContext* context,
                                         const etcdserverpb::TxnRequest* request,
                                         etcdserverpb::TxnResponse* response) {
  TxnRequest txn = from_wire(*request);
  if (Status checked = kv::check_txn_request(txn, limits_.max_txn_ops); !checked) {
    return refuse(context, checked);
  }
  if (Status sized = check_size(*request, limits_); !sized) return refuse(context, sized);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  KvClient& kv = header_.engine().client();
  if (is_read_only(txn)) {
    // etcd serves a txn without writes like a range: through ReadIndex, or locally.
    kv.async_read_txn(std::move(txn), {.consistency = consistency_of(serializable_txn(*request))},
                      answer(reactor, response, header_));
  } else if (Status room = quota_.admit(BackendQuota::cost_of(txn)); !room) {
    reactor->Finish(to_grpc_status(room));
  } else {
    kv.async_txn(std::move(txn), answer(reactor, response, header_));
  }
  return reactor;
}

grpc::ServerUnaryReactor* KvService::Compact(grpc::CallbackServerContext* context,
                                             const etcdserverpb::CompactionRequest* request,
                                             etcdserverpb::CompactionResponse* response) {
  // `physical` needs no wait here: a compaction is applied, records and all, before it answers.
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  header_.engine().client().async_compact(request->revision(), answer(reactor, response, header_));
  return reactor;
}

}  // namespace dengine::api
