#include "server/etcd_server.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "api/cluster_service.h"
#include "api/concurrency_calls.h"
#include "api/election_service.h"
#include "api/kv_service.h"
#include "api/lease_service.h"
#include "api/lock_service.h"
#include "api/log_command.h"
#include "api/maintenance_service.h"
#include "api/member_header.h"
#include "api/member_roster.h"
#include "api/watch_service.h"
#include "dengine/embedded_engine.h"
#include "net/grpc_peer_router.h"
#include "net/grpc_transport.h"
#include "net/peer_channel.h"
#include "net/peer_service.h"
#include "runtime/engine_internals.h"
#include "server/cluster_join.h"
#include "server/member_identity.h"
#include "server/peer_address_book.h"
#include "server/server_ids_file.h"
#include "server/server_log.h"

namespace dengine::server {
namespace {

// etcd's gRPC settings (embed/serve.go, v3rpc/grpc.go): room for a request of
// --max-request-bytes plus 512 KiB, so that the engine's own check answers with etcd's "request
// is too large" rather than gRPC's text; clients may ping every 5 s without a call in flight
// (gRPC's default would send idle watch streams GOAWAY too_many_pings).
constexpr int kReceiveHeadroomBytes = 512 * 1024;
constexpr int kClientPingIntervalMs = 5'000;
// How long a graceful stop lets calls in flight finish.
constexpr auto kShutdownGrace = std::chrono::seconds(5);
// Peer calls left once the engine stopped are streams the other members keep open.
constexpr auto kPeerShutdownGrace = std::chrono::milliseconds(50);

std::vector<std::string> url_texts(const std::vector<Url>& urls) {
  std::vector<std::string> texts;
  texts.reserve(urls.size());
  for (const Url& url : urls) texts.push_back(url.text);
  return texts;
}

// How often the membership thread looks at the applied members, so that the transport
// learns a new member's address soon after its record is applied.
constexpr auto kMembershipPoll = std::chrono::milliseconds(100);
// How long a removed member waits for the joint configuration that drops it to be left.
constexpr int kLeavingGraceElections = 3;
// How long a member record may go unnamed by any configuration before the leader forgets it:
// longer than any add takes between recording the URLs and changing the configuration.
constexpr auto kOrphanRecordGrace = std::chrono::seconds(30);

Status check_plain_http(const std::vector<Url>& urls, std::string_view flag) {
  for (const Url& url : urls) {
    if (url.scheme != "http") {
      return Status::invalid_argument("dengine-server: " + std::string(flag) + " " + url.text +
                                      ": TLS (https) is not supported yet; use http");
    }
  }
  return Status::ok();
}

// Binds every URL; "host:port" per URL with the port the system chose for a port 0, or why not.
Result<std::vector<std::string>> bound_addresses(const std::vector<Url>& urls,
                                                 const std::vector<int>& ports,
                                                 const grpc::Server* server,
                                                 std::string_view what) {
  std::vector<std::string> addresses;
  for (size_t i = 0; i < urls.size(); ++i) {
    if (server == nullptr || ports[i] == 0) {
      return Status::unavailable("dengine-server: cannot listen for " + std::string(what) + " on " +
                                 urls[i].text + " (address in use, or not this host's?)");
    }
    Url bound = urls[i];
    bound.port = static_cast<uint16_t>(ports[i]);
    addresses.push_back(grpc_address(bound));
  }
  return addresses;
}

EngineOptions engine_options(const ServerConfig& config, const ServerIds& ids) {
  EngineOptions options;
  options.data_dir = config.data_dir;
  options.node_id = ids.member_id;
  options.initial_members = ids.member_ids;
  options.heartbeat_interval = std::chrono::milliseconds(config.heartbeat_interval_ms);
  options.election_timeout = std::chrono::milliseconds(config.election_timeout_ms);
  options.snapshot_every_entries = config.snapshot_count;
  options.retained_log_entries = config.snapshot_catchup_entries;
  options.max_learners = api::kMaxLearners;
  return options;
}

}  // namespace

struct EtcdServer::Parts {
  ~Parts() { (void)shut_down(); }

  // Clients' calls in flight finish first (their completions need the engine). Stopping the
  // engine answers what other members asked of it (kUnavailable), so the peer listener's calls
  // end; then the router's own calls are cancelled, before the engine whose completions they
  // hold is destroyed. Idempotent; also for a server that only partly started.
  Status shut_down() {
    hand_over_leadership();
    if (waiting_calls) waiting_calls->stop();  // locks, campaigns and observers waiting end now
    if (grpc_server) {
      grpc_server->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
      grpc_server->Wait();
      grpc_server.reset();
    }
    Status engine_stop;
    if (engine) engine_stop = engine->stop();
    if (membership_log.joinable()) {  // ends with the engine
      // on_removed may stop the server from that very thread, which cannot join itself.
      if (membership_log.get_id() == std::this_thread::get_id()) {
        membership_log.detach();
      } else {
        membership_log.join();
      }
    }
    if (peer_server) {
      peer_server->Shutdown(std::chrono::system_clock::now() + kPeerShutdownGrace);
      peer_server->Wait();
      peer_server.reset();
    }
    router.reset();
    return engine_stop;
  }

  // As etcd does before a graceful stop: a leader hands over to another voter, so that the
  // cluster goes on without waiting out an election timeout. Best effort: a transfer that does
  // not complete in time leaves the election to the others.
  void hand_over_leadership() {
    if (!engine || handed_over || !engine->is_leader()) return;
    handed_over = true;
    for (const NodeId voter : engine->members().voters) {
      if (voter == engine->id()) continue;
      spdlog::info("handing leadership to {} before stopping", format_id(voter));
      if (Status moved = engine->transfer_leadership(voter, 2 * election_timeout); !moved) {
        spdlog::warn("leadership did not move to {}: {}", format_id(voter), moved.message());
      }
      return;
    }
  }

  // Until the engine stops: logs who leads and the membership whenever either changes, keeps
  // the peer address book current, publishes this member's name and client URLs once a
  // leader is known (etcd's publish), notices this member's removal, and (on the leader)
  // forgets member records that no configuration names.
  void follow_membership() {
    MembershipWatch changes = engine->watch_membership();
    std::optional<MembershipEvent> last;
    bool published = false;
    while (true) {
      Result<MembershipEvent> event = changes.next(kMembershipPoll);
      if (!event && event.status().code() != StatusCode::kTimedOut) return;
      const std::vector<api::ClusterMember> members = roster->members();
      const std::vector<MemberRecord> records = roster->records();
      address_book->refresh(members, records);
      log_images_sent();
      if (event) {
        log_changes(last, *event);
        last = *event;
      }
      if (!last) continue;
      if (removed(last->members)) {
        spdlog::warn("this member ({}) has been permanently removed from the cluster; stopping",
                     format_id(ids.member_id));
        if (on_removed) on_removed();
        return;
      }
      if (!published && last->leader != kNoNode) published = publish();
      if (last->leader == ids.member_id) collect_orphan_records(members, records);
    }
  }

  // Whether this member has left the configuration for good. While the change that removes it
  // is joint it stays (the old configuration may still need its vote to leave the joint
  // state), but a removed member may never see that last entry: a few election timeouts at
  // most.
  bool removed(const ConfState& conf) {
    const NodeId self = ids.member_id;
    if (holds(conf.voters, self) || holds(conf.learners, self)) {
      was_member = true;
      leaving_since.reset();
      return false;
    }
    if (!was_member) return false;  // joining: not in any configuration yet
    if (conf.voters_outgoing.empty()) return true;
    const auto now = std::chrono::steady_clock::now();
    if (!leaving_since) leaving_since = now;
    return now - *leaving_since > kLeavingGraceElections * election_timeout;
  }

  // A record no configuration has named for a while: a member added whose change never
  // committed, or one that removed itself and could not forget its own record.
  void collect_orphan_records(const std::vector<api::ClusterMember>& members,
                              const std::vector<MemberRecord>& records) {
    const auto now = std::chrono::steady_clock::now();
    std::map<NodeId, std::chrono::steady_clock::time_point> still_orphaned;
    for (const MemberRecord& record : records) {
      const bool configured = std::any_of(
          members.begin(), members.end(),
          [&](const api::ClusterMember& member) { return member.record.id == record.id; });
      if (configured) continue;
      auto seen = orphaned_since.find(record.id);
      const auto since = seen == orphaned_since.end() ? now : seen->second;
      if (now - since < kOrphanRecordGrace) {
        still_orphaned.emplace(record.id, since);
        continue;
      }
      spdlog::info("forgetting the record of {}, which no configuration names",
                   format_id(record.id));
      api::propose_and_forget(*engine, kv::MemberRemoveRequest{record.id});
    }
    orphaned_since = std::move(still_orphaned);
  }

  // Operators want to know a follower is catching up from an image rather than the log.
  void log_images_sent() {
    const uint64_t sent = runtime::runtime_of(*engine).images_sent();
    if (sent == images_sent) return;
    images_sent = sent;
    spdlog::info("sent an image of the state to a follower behind the compacted log ({} so far)",
                 sent);
  }

  static bool holds(const std::vector<NodeId>& nodes, NodeId node) {
    return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
  }

  // Whether the record says what this start would publish (it may already, after a restart).
  bool publish() {
    const kv::MemberPublishRequest publication{
        .id = ids.member_id, .name = name, .client_urls = client_urls, .peer_urls = peer_urls};
    for (const MemberRecord& record : roster->records()) {
      if (record.id == ids.member_id && record.name == name && record.client_urls == client_urls &&
          !record.peer_urls.empty()) {
        return true;
      }
    }
    const Status proposed = roster->propose(publication, 2 * election_timeout);
    if (!proposed) spdlog::debug("publishing this member's name and URLs: {}", proposed.message());
    return proposed.is_ok();
  }

  void log_changes(const std::optional<MembershipEvent>& last, const MembershipEvent& event) {
    if (!last || last->leader != event.leader || last->term != event.term) {
      if (event.leader == kNoNode) {
        spdlog::info("term {}: no leader", event.term);
      } else {
        spdlog::info("term {}: {} leads{}", event.term, format_id(event.leader),
                     event.leader == ids.member_id ? " (this member)" : "");
      }
    }
    // A change passes through a joint configuration; its end is what an operator asked for.
    const bool settled = event.members.voters_outgoing.empty();
    if (settled && (!last || last->members != event.members)) {
      std::string voters;
      for (const NodeId voter : event.members.voters) {
        voters += (voters.empty() ? "" : ",") + format_id(voter);
      }
      std::string learners;
      for (const NodeId learner : event.members.learners) {
        learners += (learners.empty() ? "" : ",") + format_id(learner);
      }
      spdlog::info("voters: {}{}", voters, learners.empty() ? "" : "; learners: " + learners);
    }
  }

  // The Members call of a member that joins; answered once the engine runs.
  void list_peer_members(raftpb::MembersResponse& response) const {
    const api::MemberRoster* serving = serving_roster.load();
    if (serving == nullptr) return;
    for (const uint64_t voter : ids.member_ids) response.add_initial_voters(voter);
    for (const api::ClusterMember& member : serving->members()) {
      raftpb::PeerMember* out = response.add_members();
      out->set_id(member.record.id);
      for (const std::string& url : member.record.peer_urls) out->add_peer_urls(url);
      out->set_is_learner(member.is_learner);
    }
  }

  std::thread membership_log;
  std::function<void()> on_removed;
  bool was_member = false;
  std::optional<std::chrono::steady_clock::time_point> leaving_since;
  std::map<NodeId, std::chrono::steady_clock::time_point> orphaned_since;
  uint64_t images_sent = 0;
  std::string name;
  std::vector<std::string> client_urls;
  std::vector<std::string> peer_urls;
  std::unique_ptr<PeerAddressBook> address_book;
  std::unique_ptr<api::MemberRoster> roster;
  std::atomic<const api::MemberRoster*> serving_roster{nullptr};
  std::unique_ptr<api::ClusterService> cluster;

  std::chrono::milliseconds election_timeout{1000};
  bool handed_over = false;
  std::unique_ptr<net::PeerService> peer_service;
  std::unique_ptr<grpc::Server> peer_server;
  std::vector<std::string> peer_addresses;
  std::unique_ptr<net::GrpcPeerRouter> router;
  std::unique_ptr<EmbeddedEngine> engine;
  std::unique_ptr<api::MemberHeader> header;
  std::unique_ptr<api::BackendQuota> quota;
  std::unique_ptr<api::KvService> kv;
  std::unique_ptr<api::MaintenanceService> maintenance;
  std::unique_ptr<api::WatchService> watch;
  std::unique_ptr<api::LeaseService> lease;
  // v3lock and v3election; their waiting calls' workers go after the calls (and the services).
  std::unique_ptr<api::WaitingCalls> waiting_calls;
  std::unique_ptr<api::LockService> lock;
  std::unique_ptr<api::ElectionService> election;
  std::unique_ptr<grpc::Server> grpc_server;
  std::vector<std::string> client_addresses;
  ServerIds ids;
  bool stopped = false;
};

Result<std::unique_ptr<EtcdServer>> EtcdServer::start(const ServerConfig& config, ServerIds ids,
                                                      std::function<void()> on_removed) {
  if (Status plain = check_plain_http(config.listen_client_urls, "--listen-client-urls"); !plain) {
    return plain;
  }
  if (Status plain = check_plain_http(config.listen_peer_urls, "--listen-peer-urls"); !plain) {
    return plain;
  }

  // An existing data dir overrides the bootstrap flags, as in etcd.
  Result<std::optional<ServerIds>> stored = read_server_ids(config.data_dir);
  if (!stored) return stored.status();
  if (*stored) {
    ids = **stored;
  } else if (config.initial_cluster_state == InitialClusterState::kExisting) {
    Result<ServerIds> joined = join_running_cluster(config);
    if (!joined) return joined.status();
    ids = std::move(*joined);
    spdlog::info("joining cluster {} as member {}", format_id(ids.cluster_id),
                 format_id(ids.member_id));
    if (Status written = write_server_ids(config.data_dir, ids); !written) return written;
  } else if (Status written = write_server_ids(config.data_dir, ids); !written) {
    return written;
  }

  auto parts = std::make_unique<Parts>();
  parts->ids = ids;
  parts->on_removed = std::move(on_removed);
  parts->name = config.name;
  parts->client_urls = url_texts(config.advertise_client_urls);
  parts->peer_urls = url_texts(config.initial_advertise_peer_urls);
  parts->address_book = std::make_unique<PeerAddressBook>(ids);
  parts->election_timeout = std::chrono::milliseconds(config.election_timeout_ms);

  // The peer listener first: the other members may already be calling.
  PeerAddressBook* book = parts->address_book.get();
  parts->peer_service = std::make_unique<net::PeerService>(
      ids.cluster_id, ids.member_id, [book](NodeId id) { return book->admits(id); });
  const Parts* listing = parts.get();
  parts->peer_service->list_members_with(
      [listing](raftpb::MembersResponse& response) { listing->list_peer_members(response); });
  grpc::ServerBuilder peer_builder;
  std::vector<int> peer_ports(config.listen_peer_urls.size(), 0);
  for (size_t i = 0; i < config.listen_peer_urls.size(); ++i) {
    peer_builder.AddListeningPort(grpc_address(config.listen_peer_urls[i]),
                                  grpc::InsecureServerCredentials(), &peer_ports[i]);
  }
  peer_builder.SetMaxReceiveMessageSize(net::kMaxPeerMessageBytes);
  peer_builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                                  net::kPeerKeepaliveMs / 2);
  peer_builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  peer_builder.SetMaxSendMessageSize(net::kMaxPeerMessageBytes);
  peer_builder.RegisterService(parts->peer_service.get());
  parts->peer_server = peer_builder.BuildAndStart();
  Result<std::vector<std::string>> peer_addresses =
      bound_addresses(config.listen_peer_urls, peer_ports, parts->peer_server.get(), "peers");
  if (!peer_addresses) return peer_addresses.status();
  parts->peer_addresses = std::move(*peer_addresses);

  auto address_of = [book](NodeId member) { return book->address_of(member); };
  parts->router = std::make_unique<net::GrpcPeerRouter>(net::GrpcPeerRouterOptions{
      .cluster_id = ids.cluster_id, .self = ids.member_id, .address_of = address_of});
  net::GrpcTransportOptions transport_options;
  transport_options.cluster_id = ids.cluster_id;
  transport_options.self = ids.member_id;
  transport_options.address_of = address_of;
  Result<std::unique_ptr<EmbeddedEngine>> engine = runtime::start_with_peers(
      engine_options(config, ids),
      runtime::PeerWiring{.transport = std::make_unique<net::GrpcTransport>(transport_options),
                          .router = parts->router.get()});
  if (!engine) return engine.status();
  parts->engine = std::move(*engine);
  parts->peer_service->serve_with(&runtime::runtime_of(*parts->engine));
  parts->header = std::make_unique<api::MemberHeader>(
      api::MemberIds{.cluster_id = ids.cluster_id, .member_id = ids.member_id}, *parts->engine);
  std::map<NodeId, std::vector<std::string>> bootstrap_peer_urls;
  for (const auto& [id, urls] : ids.peer_urls) bootstrap_peer_urls[id] = url_texts(urls);
  parts->roster = std::make_unique<api::MemberRoster>(*parts->engine, bootstrap_peer_urls);
  parts->serving_roster.store(parts->roster.get());
  parts->cluster = std::make_unique<api::ClusterService>(
      *parts->header, *parts->roster,
      api::ClusterServiceOptions{
          .change_timeout = std::chrono::milliseconds(5'000 + 2 * config.election_timeout_ms),
          .cluster_id = ids.cluster_id});
  parts->quota = std::make_unique<api::BackendQuota>(
      *parts->engine, ids.member_id,
      config.quota_backend_bytes == 0 ? kDefaultQuotaBackendBytes : config.quota_backend_bytes);
  parts->kv = std::make_unique<api::KvService>(
      *parts->header,
      api::KvServiceLimits{.max_request_bytes = config.max_request_bytes,
                           .max_txn_ops = config.max_txn_ops},
      *parts->quota);
  // etcd waits for a leader transfer up to its request timeout: 5 s plus two election timeouts.
  parts->maintenance = std::make_unique<api::MaintenanceService>(
      *parts->header, config.data_dir,
      std::chrono::milliseconds(5'000 + 2 * config.election_timeout_ms));
  parts->watch = std::make_unique<api::WatchService>(
      *parts->header, api::WatchServiceOptions{.progress_interval = std::chrono::milliseconds(
                                                   config.watch_progress_notify_interval_ms),
                                               .max_response_bytes = config.max_request_bytes});
  parts->lease = std::make_unique<api::LeaseService>(*parts->header, *parts->quota);
  parts->waiting_calls = std::make_unique<api::WaitingCalls>();
  parts->lock = std::make_unique<api::LockService>(*parts->header, *parts->waiting_calls);
  parts->election = std::make_unique<api::ElectionService>(*parts->header, *parts->waiting_calls);

  grpc::ServerBuilder builder;
  std::vector<int> ports(config.listen_client_urls.size(), 0);
  for (size_t i = 0; i < config.listen_client_urls.size(); ++i) {
    builder.AddListeningPort(grpc_address(config.listen_client_urls[i]),
                             grpc::InsecureServerCredentials(), &ports[i]);
  }
  const uint64_t receive_limit = config.max_request_bytes + kReceiveHeadroomBytes;
  builder.SetMaxReceiveMessageSize(receive_limit > INT_MAX ? INT_MAX
                                                           : static_cast<int>(receive_limit));
  builder.SetMaxSendMessageSize(INT_MAX);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             kClientPingIntervalMs);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.RegisterService(parts->kv.get());
  builder.RegisterService(parts->cluster.get());
  builder.RegisterService(parts->maintenance.get());
  builder.RegisterService(parts->watch.get());
  builder.RegisterService(parts->lease.get());
  builder.RegisterService(parts->lock.get());
  builder.RegisterService(parts->election.get());
  parts->grpc_server = builder.BuildAndStart();
  Result<std::vector<std::string>> client_addresses =
      bound_addresses(config.listen_client_urls, ports, parts->grpc_server.get(), "clients");
  if (!client_addresses) return client_addresses.status();
  parts->client_addresses = std::move(*client_addresses);
  std::string serving;
  for (const std::string& address : parts->client_addresses) serving += " " + address;
  std::string peers;
  for (const std::string& address : parts->peer_addresses) peers += " " + address;
  spdlog::info("member {} of cluster {}, data in {}, serving clients on{}, peers on{}",
               format_id(ids.member_id), format_id(ids.cluster_id), config.data_dir, serving,
               peers);
  Parts* raw = parts.get();
  parts->membership_log = std::thread([raw] { raw->follow_membership(); });
  return std::unique_ptr<EtcdServer>(new EtcdServer(std::move(parts)));
}

EtcdServer::EtcdServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

EtcdServer::~EtcdServer() {
  (void)stop();
}

const ServerIds& EtcdServer::ids() const {
  return parts_->ids;
}

const std::vector<std::string>& EtcdServer::client_addresses() const {
  return parts_->client_addresses;
}

const std::vector<std::string>& EtcdServer::peer_addresses() const {
  return parts_->peer_addresses;
}

Status EtcdServer::stop() {
  if (parts_->stopped) return Status::ok();
  parts_->stopped = true;
  // Calls in flight finish first: their completions need the engine.
  return parts_->shut_down();
}

}  // namespace dengine::server
