#pragma once

// The engine's errors as etcd 3.4.23 puts them on the wire (v3rpc/rpctypes/error.go): the same
// gRPC codes and message strings, because etcd's clients map errors back by message text. A
// status with a known detail maps through a table; one without, by its code.

#include <optional>

#include <grpcpp/support/status.h>

#include "dengine/status.h"

namespace dengine::api {

grpc::Status to_grpc_status(const Status& status);

// etcd's gRPC code for `detail`; none for kNone or a detail the etcd API does not answer with.
std::optional<grpc::StatusCode> etcd_code_of(ErrorDetail detail);

}  // namespace dengine::api
