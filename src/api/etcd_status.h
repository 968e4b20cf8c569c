#pragma once

// The engine's errors as etcd 3.4.23 puts them on the wire (v3rpc/rpctypes/error.go): the same
// gRPC codes and message strings, because etcd's clients map errors back by message text. A
// status with a known detail maps through a table; one without, by its code. Its own library
// (dengine_etcd_status: gRPC and common/ only), which the remote client links too.

#include <optional>

#include <grpcpp/support/status.h>

#include "dengine/status.h"

namespace dengine::api {

grpc::Status to_grpc_status(const Status& status);

// The inverse, for a client of etcd's API (src/client): the Status an error from etcd or
// dengine-server stands for. A known etcd code and text gives back its ErrorDetail (and the
// detail's code), a known detail-less text its code (kNotLeader for "etcdserver: no leader",
// kAborted for "leader changed", kTimedOut for "request timed out"...); anything else the
// nearest code with the text as its message.
Status from_grpc_status(const grpc::Status& status);

// etcd's gRPC code for `detail`; none for kNone or a detail the etcd API does not answer with.
std::optional<grpc::StatusCode> etcd_code_of(ErrorDetail detail);

}  // namespace dengine::api
