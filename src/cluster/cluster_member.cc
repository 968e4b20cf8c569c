// ClusterMember (dengine/cluster_member.h): the engine wired to the gRPC peer transport, the
// peer router and service, the member roster and the membership thread, and optionally
// etcd's client API in front (docs/architecture.md §2, the cluster room).

#include "dengine/cluster_member.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include "cluster/client_api.h"
#include "cluster/cluster_ids.h"
#include "cluster/cluster_join.h"
#include "cluster/ids_file.h"
#include "cluster/member_identity.h"
#include "cluster/member_roster.h"
#include "cluster/membership_follower.h"
#include "cluster/peer_address_book.h"
#include "cluster/peer_check.h"
#include "net/grpc_peer_router.h"
#include "net/grpc_transport.h"
#include "net/peer_channel.h"
#include "net/peer_service.h"
#include "runtime/engine_internals.h"

namespace dengine {
namespace {

// Peer calls left once the engine stopped are streams the other members keep open.
constexpr auto kPeerShutdownGrace = std::chrono::milliseconds(50);

std::vector<std::string> url_texts(const std::vector<Url>& urls) {
  std::vector<std::string> texts;
  texts.reserve(urls.size());
  for (const Url& url : urls) texts.push_back(url.text);
  return texts;
}

Status check_plain_http(const std::vector<Url>& urls, std::string_view flag) {
  for (const Url& url : urls) {
    if (url.scheme != "http") {
      return Status::failed_precondition("dengine: " + std::string(flag) + " " + url.text +
                                         ": TLS (https) is not supported yet; use http");
    }
  }
  return Status::ok();
}

EngineOptions engine_options(const MemberConfig& config, const cluster::ClusterIds& ids) {
  EngineOptions options;
  options.data_dir = config.data_dir;
  options.node_id = ids.member_id;
  options.initial_members = ids.member_ids;
  options.heartbeat_interval = std::chrono::milliseconds(config.heartbeat_interval_ms);
  options.election_timeout = std::chrono::milliseconds(config.election_timeout_ms);
  options.snapshot_every_entries = config.snapshot_count;
  options.retained_log_entries = config.snapshot_catchup_entries;
  options.max_learners = cluster::kMaxLearners;
  return options;
}

// Who this member is: the data dir's ids when it has them (they override the bootstrap flags,
// as in etcd), else the running cluster's answer (--initial-cluster-state existing), else the
// ids --initial-cluster and its token determine. Peers that answer must be of the same cluster
// (cluster/peer_check.h). Written to the data dir before the engine starts on it.
Result<cluster::ClusterIds> member_ids(const MemberConfig& config) {
  Result<std::optional<cluster::ClusterIds>> stored = cluster::read_cluster_ids(config.data_dir);
  if (!stored) return stored.status();
  if (*stored) {
    if (Status same = cluster::check_peers_are_of_this_cluster(**stored, config,
                                                               "the data dir " + config.data_dir);
        !same) {
      return same;
    }
    return **stored;
  }
  cluster::ClusterIds ids;
  if (config.initial_cluster_state == InitialClusterState::kExisting) {
    Result<cluster::ClusterIds> joined = cluster::join_running_cluster(config);
    if (!joined) return joined.status();
    ids = std::move(*joined);
    spdlog::info("joining cluster {} as member {}", cluster::format_id(ids.cluster_id),
                 cluster::format_id(ids.member_id));
  } else {
    Result<cluster::ClusterIdentity> identity = cluster::derive_identity(config);
    if (!identity) return identity.status();
    ids = cluster::bootstrap_ids(*identity);
    if (Status same = cluster::check_peers_are_of_this_cluster(
            ids, config,
            "--initial-cluster and --initial-cluster-token \"" + config.initial_cluster_token +
                "\"");
        !same) {
      return same;
    }
  }
  if (Status written = cluster::write_cluster_ids(config.data_dir, ids); !written) return written;
  return ids;
}

}  // namespace

struct ClusterMember::Parts {
  ~Parts() { (void)shut_down(); }

  // Clients' calls in flight finish first (their completions need the engine). Stopping the
  // engine answers what other members asked of it (kUnavailable), so the peer listener's calls
  // end; then the router's own calls are cancelled, before the engine whose completions they
  // hold is destroyed. Idempotent; also for a member that only partly started.
  Status shut_down() {
    hand_over_leadership();
    if (client_api) shut_down_client_api();
    Status engine_stop;
    if (engine) engine_stop = engine->stop();
    if (follower) follower->join();  // ends with the engine
    if (peer_server) {
      peer_server->Shutdown(std::chrono::system_clock::now() + kPeerShutdownGrace);
      peer_server->Wait();
      peer_server.reset();
    }
    router.reset();
    return engine_stop;
  }

  // gRPC's shutdown waits for every call's reactor to finish, and a call whose engine request
  // is never answered would hold it forever: past the grace period the engine stops, which
  // fails every request still waiting, and the calls finish with it.
  void shut_down_client_api() {
    std::mutex mutex;
    std::condition_variable finished;
    bool done = false;
    std::thread guard([&] {
      std::unique_lock lock(mutex);
      if (finished.wait_for(lock, cluster::kClientShutdownGrace + std::chrono::seconds(1),
                            [&] { return done; })) {
        return;
      }
      lock.unlock();
      spdlog::warn("client calls still waiting after {} s; stopping the engine under them",
                   cluster::kClientShutdownGrace.count());
      if (engine) (void)engine->stop();
    });
    client_api->shut_down();
    {
      std::lock_guard lock(mutex);
      done = true;
    }
    finished.notify_all();
    guard.join();
  }

  // As etcd does before a graceful stop: a leader hands over to another voter, so that the
  // cluster goes on without waiting out an election timeout. Best effort: a transfer that does
  // not complete in time leaves the election to the others.
  void hand_over_leadership() {
    if (!engine || handed_over.exchange(true) || !engine->is_leader()) return;
    for (const NodeId voter : engine->members().voters) {
      if (voter == engine->id()) continue;
      spdlog::info("handing leadership to {} before stopping", cluster::format_id(voter));
      if (Status moved = engine->transfer_leadership(voter, 2 * election_timeout); !moved) {
        spdlog::warn("leadership did not move to {}: {}", cluster::format_id(voter),
                     moved.message());
      }
      return;
    }
  }

  // The Members call of a member that joins; answered once the engine runs.
  void list_peer_members(raftpb::MembersResponse& response) const {
    const cluster::MemberRoster* serving = serving_roster.load();
    if (serving == nullptr) return;
    for (const uint64_t voter : ids.member_ids) response.add_initial_voters(voter);
    for (const api::RosterMember& member : serving->members()) {
      raftpb::PeerMember* out = response.add_members();
      out->set_id(member.record.id);
      for (const std::string& url : member.record.peer_urls) out->add_peer_urls(url);
      out->set_is_learner(member.is_learner);
    }
  }

  cluster::ClusterIds ids;
  std::chrono::milliseconds election_timeout{1000};
  std::atomic<bool> handed_over{false};
  bool stopped = false;
  Status stop_status;
  std::unique_ptr<cluster::PeerAddressBook> address_book;
  std::unique_ptr<net::PeerService> peer_service;
  std::unique_ptr<grpc::Server> peer_server;
  std::vector<std::string> peer_addresses;
  std::unique_ptr<net::GrpcPeerRouter> router;
  std::unique_ptr<EmbeddedEngine> engine;
  std::unique_ptr<cluster::MemberRoster> roster;
  std::atomic<const cluster::MemberRoster*> serving_roster{nullptr};
  std::unique_ptr<cluster::MembershipFollower> follower;
  std::unique_ptr<cluster::ClientApi> client_api;
  std::vector<std::string> client_addresses;
};

Result<std::unique_ptr<ClusterMember>> ClusterMember::start(const MemberConfig& config,
                                                            ClusterMemberOptions options) {
  if (Status plain = check_plain_http(config.listen_peer_urls, "--listen-peer-urls"); !plain) {
    return plain;
  }
  if (options.serve_client_api) {
    if (Status plain = check_plain_http(config.listen_client_urls, "--listen-client-urls");
        !plain) {
      return plain;
    }
  }
  Result<cluster::ClusterIds> ids = member_ids(config);
  if (!ids) return ids.status();

  auto parts = std::make_unique<Parts>();
  parts->ids = *ids;
  parts->address_book = std::make_unique<cluster::PeerAddressBook>(*ids);
  parts->election_timeout = std::chrono::milliseconds(config.election_timeout_ms);

  // The peer listener first: the other members may already be calling.
  cluster::PeerAddressBook* book = parts->address_book.get();
  parts->peer_service = std::make_unique<net::PeerService>(
      ids->cluster_id, ids->member_id, [book](NodeId id) { return book->admits(id); });
  const Parts* listing = parts.get();
  parts->peer_service->list_members_with(
      [listing](raftpb::MembersResponse& response) { listing->list_peer_members(response); });
  grpc::ServerBuilder peer_builder;
  std::vector<int> peer_ports(config.listen_peer_urls.size(), 0);
  for (size_t i = 0; i < config.listen_peer_urls.size(); ++i) {
    peer_builder.AddListeningPort(cluster::grpc_address(config.listen_peer_urls[i]),
                                  grpc::InsecureServerCredentials(), &peer_ports[i]);
  }
  peer_builder.SetMaxReceiveMessageSize(net::kMaxPeerMessageBytes);
  peer_builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                                  net::kPeerKeepaliveMs / 2);
  peer_builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  peer_builder.SetMaxSendMessageSize(net::kMaxPeerMessageBytes);
  peer_builder.RegisterService(parts->peer_service.get());
  parts->peer_server = peer_builder.BuildAndStart();
  Result<std::vector<std::string>> peer_addresses = cluster::bound_addresses(
      config.listen_peer_urls, peer_ports, parts->peer_server != nullptr, "peers");
  if (!peer_addresses) return peer_addresses.status();
  parts->peer_addresses = std::move(*peer_addresses);

  auto address_of = [book](NodeId member) { return book->address_of(member); };
  parts->router = std::make_unique<net::GrpcPeerRouter>(net::GrpcPeerRouterOptions{
      .cluster_id = ids->cluster_id, .self = ids->member_id, .address_of = address_of});
  net::GrpcTransportOptions transport_options;
  transport_options.cluster_id = ids->cluster_id;
  transport_options.self = ids->member_id;
  transport_options.address_of = address_of;
  Result<std::unique_ptr<EmbeddedEngine>> engine = runtime::start_with_peers(
      engine_options(config, *ids),
      runtime::PeerWiring{.transport = std::make_unique<net::GrpcTransport>(transport_options),
                          .router = parts->router.get(),
                          .before_stop = [raw = parts.get()] { raw->hand_over_leadership(); }});
  if (!engine) return engine.status();
  parts->engine = std::move(*engine);
  parts->peer_service->serve_with(&runtime::runtime_of(*parts->engine));

  std::map<NodeId, std::vector<std::string>> bootstrap_peer_urls;
  for (const auto& [id, urls] : ids->peer_urls) bootstrap_peer_urls[id] = url_texts(urls);
  parts->roster = std::make_unique<cluster::MemberRoster>(
      *parts->engine,
      cluster::MemberRosterOptions{
          .bootstrap_peer_urls = std::move(bootstrap_peer_urls),
          .cluster_id = ids->cluster_id,
          .change_timeout = std::chrono::milliseconds(5'000 + 2 * config.election_timeout_ms)});
  parts->serving_roster.store(parts->roster.get());

  if (options.serve_client_api) {
    Result<std::unique_ptr<cluster::ClientApi>> client_api =
        cluster::ClientApi::start(config, *ids, *parts->engine, *parts->roster);
    if (!client_api) return client_api.status();
    parts->client_api = std::move(*client_api);
    parts->client_addresses = parts->client_api->addresses();
  }
  std::string serving;
  for (const std::string& address : parts->client_addresses) serving += " " + address;
  std::string peers;
  for (const std::string& address : parts->peer_addresses) peers += " " + address;
  spdlog::info("member {} of cluster {}, data in {}, serving clients on{}, peers on{}",
               cluster::format_id(ids->member_id), cluster::format_id(ids->cluster_id),
               config.data_dir, serving.empty() ? " (none)" : serving, peers);

  parts->follower = std::make_unique<cluster::MembershipFollower>(
      *parts->engine, *parts->roster, *parts->address_book,
      cluster::Publication{.name = config.name,
                           .client_urls = url_texts(config.advertise_client_urls),
                           .peer_urls = url_texts(config.initial_advertise_peer_urls)},
      parts->election_timeout, std::move(options.on_removed));
  parts->follower->start();
  return std::unique_ptr<ClusterMember>(new ClusterMember(std::move(parts)));
}

ClusterMember::ClusterMember(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

ClusterMember::~ClusterMember() {
  (void)stop();
}

EmbeddedEngine& ClusterMember::engine() {
  return *parts_->engine;
}
NodeId ClusterMember::id() const {
  return parts_->ids.member_id;
}
uint64_t ClusterMember::cluster_id() const {
  return parts_->ids.cluster_id;
}
bool ClusterMember::is_leader() const {
  return parts_->engine->is_leader();
}
NodeId ClusterMember::leader() const {
  return parts_->engine->leader();
}
ConfState ClusterMember::members() const {
  return parts_->engine->members();
}
MembershipWatch ClusterMember::watch_membership() {
  return parts_->engine->watch_membership();
}

std::vector<ClusterMemberRecord> ClusterMember::members_with_records() const {
  std::vector<ClusterMemberRecord> listed;
  for (api::RosterMember& member : parts_->roster->members()) {
    listed.push_back(
        ClusterMemberRecord{.record = std::move(member.record), .is_learner = member.is_learner});
  }
  return listed;
}

Result<MemberRecord> ClusterMember::add_member(std::vector<std::string> peer_urls,
                                               bool as_learner) {
  return parts_->roster->add_member(std::move(peer_urls), as_learner);
}
Status ClusterMember::promote(NodeId member) {
  return parts_->roster->promote_member(member);
}
Status ClusterMember::remove_member(NodeId member) {
  return parts_->roster->remove_member(member);
}
Status ClusterMember::update_member(NodeId member, std::vector<std::string> peer_urls) {
  return parts_->roster->update_member(member, std::move(peer_urls));
}
Status ClusterMember::transfer_leadership(NodeId to, std::chrono::milliseconds timeout) {
  return parts_->engine->transfer_leadership(to, timeout);
}

const std::vector<std::string>& ClusterMember::peer_addresses() const {
  return parts_->peer_addresses;
}
const std::vector<std::string>& ClusterMember::client_addresses() const {
  return parts_->client_addresses;
}

Status ClusterMember::stop() {
  if (parts_->stopped) return parts_->stop_status;
  parts_->stopped = true;
  parts_->stop_status = parts_->shut_down();
  return parts_->stop_status;
}

}  // namespace dengine
