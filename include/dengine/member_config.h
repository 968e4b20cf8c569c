#pragma once

// A member's configuration (dengine-server's, and a ClusterMember's: dengine/cluster_member.h):
// etcd 3.4.23's flags, environment variables (ETCD_*) and YAML config file, with etcd's
// defaults, precedence and validation (etcdmain/config.go, embed/config.go, pkg/flags/flag.go).
// Everything is checked here, before anything is written. Part of dengine::cluster.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dengine/status.h"

namespace dengine {

// An http(s)://host:port URL. `text` is the canonical spelling (lower-case scheme, IPv6 hosts
// in brackets); it is what member ids are hashed over, so it must match etcd's url.String().
struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  uint16_t port = 0;
  std::string text;

  friend bool operator==(const Url&, const Url&) = default;
};

// One name of --initial-cluster with all its peer URLs, in the order given.
struct InitialClusterMember {
  std::string name;
  std::vector<Url> peer_urls;

  friend bool operator==(const InitialClusterMember&, const InitialClusterMember&) = default;
};

enum class InitialClusterState : uint8_t { kNew, kExisting };
std::string_view initial_cluster_state_name(InitialClusterState state);  // "new" | "existing"

// What the command line asks for: run the server, or print help or the version and exit 0.
enum class ConfigAction : uint8_t { kRun, kHelp, kVersion };

// etcd's quota when --quota-backend-bytes is 0 (etcdserver/quota.go DefaultQuotaBytes).
inline constexpr int64_t kDefaultQuotaBackendBytes = int64_t{2} * 1024 * 1024 * 1024;
// etcd rejects longer election timeouts (embed/config.go maxElectionMs).
inline constexpr uint64_t kMaxElectionTimeoutMs = 50000;

// A default-constructed MemberConfig is exactly what `dengine-server` with no arguments runs.
// Each default has one source, the flag table in server_config.cc (what --help shows): the
// constructor parses every flag's default text as if it were given.
struct MemberConfig {
  MemberConfig();

  ConfigAction action = ConfigAction::kRun;
  std::string config_file;  // empty unless --config-file / ETCD_CONFIG_FILE was given

  std::string name;
  std::string data_dir;  // "<name>.dengine" unless given
  std::vector<Url> listen_client_urls;
  std::vector<Url> advertise_client_urls;
  std::vector<Url> listen_peer_urls;
  std::vector<Url> initial_advertise_peer_urls;
  // "<name>=<initial-advertise-peer-urls>" unless given.
  std::vector<InitialClusterMember> initial_cluster;
  InitialClusterState initial_cluster_state = InitialClusterState::kNew;
  std::string initial_cluster_token;

  uint64_t heartbeat_interval_ms = 0;
  uint64_t election_timeout_ms = 0;
  uint64_t snapshot_count = 0;            // 0 given means the default, as in etcd
  uint64_t snapshot_catchup_entries = 0;  // etcd 3.5's --experimental-snapshot-catchup-entries
  // etcd's --experimental-watch-progress-notify-interval, a Go duration on the command line.
  uint64_t watch_progress_notify_interval_ms = 0;
  int64_t quota_backend_bytes = 0;  // 0 means kDefaultQuotaBackendBytes
  uint64_t max_request_bytes = 0;
  uint64_t max_txn_ops = 0;
  std::string log_level;  // debug | info | warn | error | dpanic | panic | fatal

  // Things etcd logs and carries on with: ignored flags when a config file is used,
  // unrecognized ETCD_* variables, unknown config-file keys. The caller prints them.
  std::vector<std::string> warnings;
};

// `args` excludes argv[0]; `env` is the process environment (only ETCD_* entries matter).
// Flags override ETCD_* variables, which override defaults; a variable that shadows a flag
// given on the command line is an error. With --config-file (or ETCD_CONFIG_FILE) the file
// alone is used. Flags may be written -flag or --flag, with the value as `=value` or the next
// argument. The first problem found is returned as InvalidArgument (IoError for an unreadable
// config file), naming the flag and the offending value.
Result<MemberConfig> parse_member_config(std::span<const std::string> args,
                                         const std::map<std::string, std::string>& env);

// Help text for --help: every flag with its default.
std::string member_config_usage();

// "http://10.0.0.1:2380". Error messages start with `what` when it is not empty
// ("--listen-peer-urls: URL \"x\" has no port; ...").
Result<Url> parse_url(std::string_view text, std::string_view what);
// Comma-separated, surrounding spaces ignored, at least one URL, order kept.
Result<std::vector<Url>> parse_url_list(std::string_view text, std::string_view what);
// "a=http://h1:2380,b=http://h2:2380,a=http://h3:2380": a name may repeat to list more URLs;
// members keep the order in which their name first appears. Error messages describe the value
// only ("entry \"x\" is not name=url"); the caller says which setting it came from.
Result<std::vector<InitialClusterMember>> parse_initial_cluster(std::string_view text);
// The inverse of parse_initial_cluster: "a=http://h1:2380,a=http://h3:2380,b=...".
std::string format_initial_cluster(std::span<const InitialClusterMember> members);

}  // namespace dengine
