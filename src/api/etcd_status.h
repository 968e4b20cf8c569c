#pragma once

// The engine's errors as etcd 3.4.23 puts them on the wire (v3rpc/rpctypes/error.go): the same
// gRPC codes and message strings, because etcd's clients map errors back by message text.

#include <grpcpp/support/status.h>

#include "dengine/status.h"

namespace dengine::api {

grpc::Status to_grpc_status(const Status& status);

}  // namespace dengine::api
