#pragma once

// The gRPC channel a member opens to a peer's listener, with the peer protocol's limits: a
// batch of entries or an image chunk may be far larger than gRPC's 4 MiB default.

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

namespace dengine::net {

// Bounds one peer message (a batch of Raft messages, an answer carrying a txn's ranges): a
// sender keeps its batches well below it.
inline constexpr int kMaxPeerMessageBytes = 256 * 1024 * 1024;
// Peers ping each other this often when idle, and give up on one that does not answer within
// as long. The peer listener must accept pings this frequent.
inline constexpr int kPeerKeepaliveMs = 2'000;

inline std::shared_ptr<grpc::Channel> make_peer_channel(const std::string& address) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(kMaxPeerMessageBytes);
  arguments.SetMaxSendMessageSize(kMaxPeerMessageBytes);
  // Reconnect attempts are paced by the senders' own backoff, not gRPC's (up to 120 s).
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  // A peer that vanished without closing its connection (a cut cable, a frozen host) is
  // noticed within seconds, failing the calls and streams waiting on it.
  arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, kPeerKeepaliveMs);
  arguments.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kPeerKeepaliveMs);
  arguments.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  arguments.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), arguments);
}

}  // namespace dengine::net
