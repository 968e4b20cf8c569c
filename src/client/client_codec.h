#pragma once

// The remote client's half of the etcd wire: the engine's request types to etcd's messages, and
// etcd's responses back (the inverse of api/etcd_codec.h, which serves them). Field numbers and
// enum values are etcd 3.4.23's, which dengine/kv_types.h shares.

#include "dengine/kv_types.h"
#include "etcd/etcdserverpb/rpc.pb.h"
#include "etcd/mvccpb/kv.pb.h"

namespace dengine::client {

void to_wire(const RangeRequest& request, etcdserverpb::RangeRequest* wire);
void to_wire(const PutRequest& request, etcdserverpb::PutRequest* wire);
void to_wire(const DeleteRangeRequest& request, etcdserverpb::DeleteRangeRequest* wire);
void to_wire(const TxnRequest& request, etcdserverpb::TxnRequest* wire);
void to_wire(const Compare& compare, etcdserverpb::Compare* wire);

KeyValue from_wire(const mvccpb::KeyValue& wire);
Event from_wire(const mvccpb::Event& wire);
RangeResponse from_wire(const etcdserverpb::RangeResponse& wire);
PutResponse from_wire(const etcdserverpb::PutResponse& wire);
DeleteRangeResponse from_wire(const etcdserverpb::DeleteRangeResponse& wire);
TxnResponse from_wire(const etcdserverpb::TxnResponse& wire);

}  // namespace dengine::client
