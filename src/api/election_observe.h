#pragma once

// etcd's Election.Observe as a server stream (clientv3/concurrency's observe loop, which the
// v3election service runs): first the leader when the call starts (or, while there is none, the
// first candidate to come), then each of its proclamations until its key is deleted, then the
// next leader, and so on, in order. It runs on a worker of WaitingCalls, writes one response at
// a time (a client that stops reading holds it back, as etcd's blocking Send does), and ends when
// the client cancels or the server stops.
//
// As etcd, it follows the election by reading, not by being told of every change: a leader
// that came and went while it looked for the next one may be skipped, the latest never is.

#include <string>

#include <grpcpp/support/server_callback.h>

#include "api/concurrency_calls.h"
#include "api/member_header.h"
#include "etcd/v3electionpb/v3election.pb.h"

namespace dengine::api {

// Starts observing the candidates' keys under `prefix` (the election's name and "/").
grpc::ServerWriteReactor<v3electionpb::LeaderResponse>* start_observe(const MemberHeader& header,
                                                                      WaitingCalls& waiting,
                                                                      std::string prefix);

}  // namespace dengine::api
