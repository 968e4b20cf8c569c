#pragma once

// Between etcd's wire messages (proto/etcd, etcd 3.4.23's field numbers) and the engine's own
// request types (dengine/kv_types.h). The engine never sees protobuf; only api/ does.
// Response headers are not filled here: response_header.h knows the member and its term.

#include "dengine/kv_types.h"
#include "etcd/etcdserverpb/rpc.pb.h"
#include "etcd/mvccpb/kv.pb.h"

namespace dengine::api {

RangeRequest from_wire(const etcdserverpb::RangeRequest& wire);
PutRequest from_wire(const etcdserverpb::PutRequest& wire);
DeleteRangeRequest from_wire(const etcdserverpb::DeleteRangeRequest& wire);
TxnRequest from_wire(const etcdserverpb::TxnRequest& wire);
Compare from_wire(const etcdserverpb::Compare& wire);

void to_wire(const KeyValue& kv, mvccpb::KeyValue* wire);
void to_wire(const Event& event, mvccpb::Event* wire);
// Each fills the body and the header's revision (the one field of a header the engine knows).
void to_wire(const RangeResponse& response, etcdserverpb::RangeResponse* wire);
void to_wire(const PutResponse& response, etcdserverpb::PutResponse* wire);
void to_wire(const DeleteRangeResponse& response, etcdserverpb::DeleteRangeResponse* wire);
void to_wire(const TxnResponse& response, etcdserverpb::TxnResponse* wire);
void to_wire(const CompactionResponse& response, etcdserverpb::CompactionResponse* wire);

}  // namespace dengine::api
