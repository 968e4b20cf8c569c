#include "dengine/member_config.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include "common/check.h"
#include "dengine/kv_types.h"

namespace dengine {
namespace {

std::string in_quotes(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

std::string_view trim_spaces(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

std::vector<std::string_view> split_on_commas(std::string_view text) {
  std::vector<std::string_view> parts;
  for (;;) {
    const auto comma = text.find(',');
    parts.push_back(text.substr(0, comma));
    if (comma == std::string_view::npos) return parts;
    text.remove_prefix(comma + 1);
  }
}

// ---- values ----------------------------------------------------------------------------------
// A setter reports only what is wrong with the value; the caller adds where it came from.

// Decimal digits only. Go's flag parser (and so etcd) also takes 0x.. and 1_000; we refuse
// those rather than guess.
Result<uint64_t> parse_unsigned(std::string_view text) {
  if (!text.empty() && text.front() == '-') return Status::invalid_argument("must not be negative");
  const bool all_digits = !text.empty() && std::all_of(text.begin(), text.end(),
                                                       [](char c) { return c >= '0' && c <= '9'; });
  if (!all_digits) return Status::invalid_argument("not a decimal number");
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc::result_out_of_range || end != text.data() + text.size()) {
    return Status::invalid_argument("out of range (the maximum is " +
                                    std::to_string(std::numeric_limits<uint64_t>::max()) + ")");
  }
  return value;
}

// Each setter stores one field of MemberConfig; the table below names which.
using Setter = Status (*)(MemberConfig& config, std::string_view value);

template <std::string MemberConfig::*field>
Status set_text(MemberConfig& config, std::string_view text) {
  config.*field = text;
  return Status::ok();
}

template <uint64_t MemberConfig::*field>
Status set_unsigned(MemberConfig& config, std::string_view text) {
  auto value = parse_unsigned(text);
  if (!value) return value.status();
  config.*field = *value;
  return Status::ok();
}

// Go's time.ParseDuration, as etcd's duration flags take: a sequence of decimal numbers, each
// with a unit (ns, us, µs, ms, s, m, h), such as "10m0s" or "1.5s"; "0" alone is zero.
Result<uint64_t> parse_duration_ms(std::string_view text) {
  if (text == "0") return uint64_t{0};
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"ns", 1e-6}, {"us", 1e-3}, {"\u00b5s", 1e-3}, {"ms", 1.0},
      {"s", 1e3},   {"m", 6e4},   {"h", 3.6e6}};
  const std::string bad = "is not a duration such as 500ms, 10s or 10m0s";
  if (text.empty()) return Status::invalid_argument(bad);
  double total_ms = 0;
  size_t at = 0;
  while (at < text.size()) {
    size_t number_end = at;
    while (number_end < text.size() &&
           ((text[number_end] >= '0' && text[number_end] <= '9') || text[number_end] == '.')) {
      ++number_end;
    }
    if (number_end == at) return Status::invalid_argument(bad);
    double number = 0;
    const auto [end, error] = std::from_chars(text.data() + at, text.data() + number_end, number);
    if (error != std::errc() || end != text.data() + number_end) {
      return Status::invalid_argument(bad);
    }
    at = number_end;
    double unit_ms = 0;
    size_t unit_length = 0;
    for (const auto& [unit, ms] : kUnits) {
      // The longest unit that matches ("ms" before "m").
      if (text.substr(at, unit.size()) == unit && unit.size() > unit_length) {
        unit_ms = ms;
        unit_length = unit.size();
      }
    }
    if (unit_length == 0) return Status::invalid_argument(bad + " (a number lacks its unit)");
    total_ms += number * unit_ms;
    at += unit_length;
  }
  if (total_ms > 1e15) return Status::invalid_argument("is too long a duration");
  // Whole milliseconds, but never a positive duration rounded down to 0 (which means "default").
  return total_ms > 0 && total_ms < 1 ? uint64_t{1} : static_cast<uint64_t>(total_ms);
}

template <uint64_t MemberConfig::*field>
Status set_duration_ms(MemberConfig& config, std::string_view text) {
  auto value = parse_duration_ms(text);
  if (!value) return value.status();
  config.*field = *value;
  return Status::ok();
}

template <std::vector<Url> MemberConfig::*field>
Status set_urls(MemberConfig& config, std::string_view text) {
  auto urls = parse_url_list(text, "");
  if (!urls) return urls.status();
  config.*field = std::move(*urls);
  return Status::ok();
}

// etcd's --quota-backend-bytes is an int64 where a negative value disables the quota; a
// server without a space bound is not something we offer, so negatives are refused.
Status set_quota(MemberConfig& config, std::string_view text) {
  auto value = parse_unsigned(text);
  if (!value) return value.status();
  if (*value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Status::invalid_argument("out of range (the maximum is " +
                                    std::to_string(std::numeric_limits<int64_t>::max()) + ")");
  }
  config.quota_backend_bytes = static_cast<int64_t>(*value);
  return Status::ok();
}

Status set_initial_cluster(MemberConfig& config, std::string_view text) {
  auto members = parse_initial_cluster(text);
  if (!members) return members.status();
  config.initial_cluster = std::move(*members);
  return Status::ok();
}

Status set_cluster_state(MemberConfig& config, std::string_view text) {
  if (text == "new") {
    config.initial_cluster_state = InitialClusterState::kNew;
  } else if (text == "existing") {
    config.initial_cluster_state = InitialClusterState::kExisting;
  } else {
    return Status::invalid_argument("must be \"new\" or \"existing\"");
  }
  return Status::ok();
}

// The levels etcd 3.4's logutil.ConvertToZapLevel knows; anything else makes etcd panic.
Status set_log_level(MemberConfig& config, std::string_view text) {
  static constexpr std::string_view kLevels[] = {"debug",  "info",  "warn", "error",
                                                 "dpanic", "panic", "fatal"};
  if (std::find(std::begin(kLevels), std::end(kLevels), text) == std::end(kLevels)) {
    return Status::invalid_argument(
        "unknown log level; use debug, info, warn, error, panic or fatal");
  }
  config.log_level = text;
  return Status::ok();
}

// ---- the flags -------------------------------------------------------------------------------

struct FlagSpec {
  std::string_view name;
  std::string_view default_text;  // as --help shows it
  std::string_view help;
  Setter set;
};

// etcd 3.4.23's names and help texts (etcdmain/help.go), with dengine's defaults.
constexpr FlagSpec kFlags[] = {
    {"config-file", "",
     "Path to the server configuration file (YAML, keys are the flag names). "
     "If given, all other flags and environment variables are ignored.",
     set_text<&MemberConfig::config_file>},
    {"name", "default", "Human-readable name for this member.", set_text<&MemberConfig::name>},
    {"data-dir", "${name}.dengine", "Path to the data directory.",
     set_text<&MemberConfig::data_dir>},
    {"snapshot-count", "100000", "Number of committed transactions to trigger a snapshot to disk.",
     set_unsigned<&MemberConfig::snapshot_count>},
    // etcd 3.5's flag (3.4 hard-codes 5000): entries kept behind a snapshot for slow followers.
    {"experimental-snapshot-catchup-entries", "5000",
     "Number of entries for a slow follower to catch up after compacting the raft storage "
     "entries.",
     set_unsigned<&MemberConfig::snapshot_catchup_entries>},
    {"experimental-watch-progress-notify-interval", "10m0s",
     "Duration of periodic watch progress notifications.",
     set_duration_ms<&MemberConfig::watch_progress_notify_interval_ms>},
    {"heartbeat-interval", "100", "Time (in milliseconds) of a heartbeat interval.",
     set_unsigned<&MemberConfig::heartbeat_interval_ms>},
    {"election-timeout", "1000", "Time (in milliseconds) for an election to timeout.",
     set_unsigned<&MemberConfig::election_timeout_ms>},
    {"listen-peer-urls", "http://127.0.0.1:2380", "List of URLs to listen on for peer traffic.",
     set_urls<&MemberConfig::listen_peer_urls>},
    {"listen-client-urls", "http://127.0.0.1:2379", "List of URLs to listen on for client traffic.",
     set_urls<&MemberConfig::listen_client_urls>},
    {"quota-backend-bytes", "0",
     "Raise alarms when backend size exceeds the given quota (0 defaults to 2 GiB).", set_quota},
    {"max-txn-ops", "128", "Maximum number of operations permitted in a transaction.",
     set_unsigned<&MemberConfig::max_txn_ops>},
    {"max-request-bytes", "1572864", "Maximum client request size in bytes the server will accept.",
     set_unsigned<&MemberConfig::max_request_bytes>},
    {"initial-advertise-peer-urls", "http://127.0.0.1:2380",
     "List of this member's peer URLs to advertise to the rest of the cluster.",
     set_urls<&MemberConfig::initial_advertise_peer_urls>},
    {"initial-cluster", "${name}=${initial-advertise-peer-urls}",
     "Initial cluster configuration for bootstrapping.", set_initial_cluster},
    {"initial-cluster-state", "new", "Initial cluster state ('new' or 'existing').",
     set_cluster_state},
    {"initial-cluster-token", "etcd-cluster",
     "Initial cluster token for the cluster during bootstrap; member and cluster ids are derived "
     "from it.",
     set_text<&MemberConfig::initial_cluster_token>},
    {"advertise-client-urls", "http://127.0.0.1:2379",
     "List of this member's client URLs to advertise to the public.",
     set_urls<&MemberConfig::advertise_client_urls>},
    {"log-level", "info",
     "Configures log level. Only supports debug, info, warn, error, panic, or fatal.",
     set_log_level},
};

// A default that names other settings ("${name}.dengine"), derived once they are known.
bool is_derived(const FlagSpec& flag) {
  return flag.default_text.find("${") != std::string_view::npos;
}

const FlagSpec* find_flag(std::string_view name) {
  for (const FlagSpec& flag : kFlags) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

// pkg/flags.FlagToEnv: "data-dir" -> "ETCD_DATA_DIR".
std::string env_name(std::string_view flag) {
  std::string key = "ETCD_";
  for (const char c : flag) {
    key += c == '-' ? '_' : static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  }
  return key;
}

// One value for one flag, and where it came from for error messages.
struct Setting {
  const FlagSpec* flag;
  std::string value;
  std::string source;  // "--name", "ETCD_NAME (--name)", "name at /etc/dengine.yaml:2:7"
};

Status apply_settings(std::span<const Setting> settings, MemberConfig& config) {
  for (const Setting& setting : settings) {
    const Status status = setting.flag->set(config, setting.value);
    if (!status) {
      return Status::invalid_argument("invalid value " + in_quotes(setting.value) + " for " +
                                      setting.source + ": " + status.message());
    }
  }
  return Status::ok();
}

bool is_set(std::span<const Setting> settings, std::string_view flag) {
  return std::any_of(settings.begin(), settings.end(),
                     [flag](const Setting& s) { return s.flag->name == flag; });
}

// ---- the command line ------------------------------------------------------------------------

struct CommandLine {
  ConfigAction action = ConfigAction::kRun;
  std::vector<Setting> settings;  // in order; a repeated flag's last value wins, as in Go
};

// "-name", "--name" or "--name=x" -> "name"; anything else -> "".
std::string_view flag_name_of(std::string_view arg) {
  if (arg.size() < 2 || arg[0] != '-') return {};
  arg.remove_prefix(arg[1] == '-' ? 2 : 1);
  return arg.substr(0, arg.find('='));
}

bool names_a_flag(std::string_view arg) {
  const std::string_view name = flag_name_of(arg);
  return find_flag(name) != nullptr || name == "h" || name == "help" || name == "version";
}

// Go's flag package syntax, which etcd uses: one or two dashes, the value after '=' or as the
// next argument; parsing stops at "--" or the first non-flag, and etcd rejects what is left.
// One deliberate difference: Go would take "--name --data-dir x" as name="--data-dir"; a
// value that is itself one of our flags is reported as missing instead.
Result<CommandLine> scan_command_line(std::span<const std::string> args) {
  CommandLine line;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--") {
      if (i + 1 == args.size()) break;
      return Status::invalid_argument("'" + args[i + 1] + "' is not a valid flag");
    }
    if (arg.size() < 2 || arg[0] != '-') {
      return Status::invalid_argument("'" + std::string(arg) + "' is not a valid flag");
    }
    std::string_view body = arg.substr(arg[1] == '-' ? 2 : 1);
    if (body.empty() || body[0] == '-' || body[0] == '=') {
      return Status::invalid_argument("bad flag syntax: " + std::string(arg));
    }
    const auto equals = body.find('=');
    const std::string_view name = body.substr(0, equals);
    const bool has_value = equals != std::string_view::npos;
    const std::string_view inline_value = has_value ? body.substr(equals + 1) : std::string_view{};

    if (name == "h" || name == "help") {
      line.action = ConfigAction::kHelp;
      return line;
    }
    if (name == "version") {  // a boolean: --version or --version=true|false
      if (has_value && inline_value != "true" && inline_value != "false") {
        return Status::invalid_argument("invalid value " + in_quotes(inline_value) +
                                        " for flag --version: must be true or false");
      }
      if (!has_value || inline_value == "true") line.action = ConfigAction::kVersion;
      continue;
    }
    const FlagSpec* flag = find_flag(name);
    if (flag == nullptr) return Status::invalid_argument("unknown flag: --" + std::string(name));

    std::string value;
    if (has_value) {
      value = inline_value;
    } else if (i + 1 < args.size() && !names_a_flag(args[i + 1])) {
      value = args[++i];
    } else {
      return Status::invalid_argument("flag needs an argument: --" + std::string(name));
    }
    line.settings.push_back({flag, std::move(value), "--" + std::string(name)});
  }
  return line;
}

// ---- the environment -------------------------------------------------------------------------

// pkg/flags.SetFlagsFromEnv: every flag not given on the command line may come from ETCD_<FLAG>;
// an empty variable counts as unset. A variable for a flag that *was* given is fatal in etcd,
// even when empty, so that a stale environment cannot silently lose to a flag or vice versa.
Result<std::vector<Setting>> settings_from_environment(
    const std::map<std::string, std::string>& env, std::span<const Setting> from_flags,
    std::vector<std::string>& warnings) {
  std::vector<Setting> settings;
  std::set<std::string> known;
  for (const FlagSpec& flag : kFlags) {
    const std::string key = env_name(flag.name);
    known.insert(key);
    const auto it = env.find(key);
    if (it == env.end()) continue;
    if (is_set(from_flags, flag.name)) {
      return Status::invalid_argument("conflicting environment variable " + in_quotes(key) +
                                      " is shadowed by corresponding command-line flag --" +
                                      std::string(flag.name) +
                                      " (either unset environment variable or disable flag)");
    }
    if (it->second.empty()) continue;
    settings.push_back({&flag, it->second, key + " (--" + std::string(flag.name) + ")"});
  }
  known.insert("ETCD_VERSION");  // etcd has a --version flag; its variable is harmless
  for (const auto& [key, value] : env) {
    if (key.starts_with("ETCD_") && !known.contains(key)) {
      warnings.push_back("unrecognized environment variable " + key + "=" + value + " (ignored)");
    }
  }
  return settings;
}

// ---- the config file -------------------------------------------------------------------------

std::string position(const std::string& path, const YAML::Mark& mark) {
  return path + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

// embed.ConfigFromFile: a YAML mapping from flag names to scalar values. etcd unmarshals it
// into a struct, so unknown keys (including etcd options dengine lacks) are silently dropped;
// we drop them too, with a warning, so an etcd config file still starts a server.
Result<std::vector<Setting>> settings_from_file(const std::string& path,
                                                std::vector<std::string>& warnings) {
  std::error_code unused;
  if (std::filesystem::is_directory(path, unused)) {  // which ifstream would read as empty
    return Status::io_error("cannot read config file " + path + ": it is a directory");
  }
  std::ifstream file(path);
  if (!file) {
    return Status::io_error("cannot read config file " + path + ": " + std::strerror(errno));
  }
  std::stringstream text;
  text << file.rdbuf();
  std::vector<Setting> settings;
  try {
    const YAML::Node root = YAML::Load(text.str());
    if (root.IsNull()) return settings;  // an empty file: all defaults
    if (!root.IsMap()) {
      return Status::invalid_argument("config file " + position(path, root.Mark()) +
                                      ": expected a mapping of flag names to values");
    }
    for (const auto& entry : root) {
      const YAML::Node& key = entry.first;
      const YAML::Node& value = entry.second;
      const std::string name = key.IsScalar() ? key.Scalar() : std::string();
      const FlagSpec* flag = find_flag(name);
      if (flag == nullptr || name == "config-file") {
        warnings.push_back("config file " + position(path, key.Mark()) + ": unknown key " +
                           in_quotes(name) + " ignored");
        continue;
      }
      if (value.IsNull()) continue;  // "name:" leaves the default, as JSON null does in etcd
      if (!value.IsScalar()) {
        return Status::invalid_argument("config file " + position(path, value.Mark()) +
                                        ": value of " + name + " must be a single value, not a " +
                                        (value.IsSequence() ? "list" : "mapping") +
                                        " (lists are comma-separated strings)");
      }
      settings.push_back({flag, value.Scalar(), name + " at " + position(path, value.Mark())});
    }
  } catch (const YAML::Exception& error) {
    return Status::invalid_argument("config file " + path + " is not valid YAML: line " +
                                    std::to_string(error.mark.line + 1) + ", column " +
                                    std::to_string(error.mark.column + 1) + ": " + error.msg);
  }
  return settings;
}

// ---- defaults that depend on other settings, and cross-checks --------------------------------

enum class Source : uint8_t { kFlagsAndEnvironment, kConfigFile };

void fill_derived_defaults(std::span<const Setting> settings, MemberConfig& config) {
  // etcdserver: a snapshot count of 0 means the default.
  if (config.snapshot_count == 0) config.snapshot_count = MemberConfig{}.snapshot_count;
  // etcdmain: an unset or empty data dir is "${name}.etcd"; ours is "${name}.dengine".
  if (!is_set(settings, "data-dir") || config.data_dir.empty()) {
    config.data_dir = config.name + ".dengine";
  }
  // embed.UpdateDefaultClusterFromName: a lone member named by --name at its advertised URLs.
  // etcd skips this when the name is "default", so there a changed advertised URL alone fails
  // the URL check below; deriving it always is what that user meant.
  if (!is_set(settings, "initial-cluster")) {
    config.initial_cluster = {{config.name, config.initial_advertise_peer_urls}};
  }
}

// embed.checkBindURLs: a listener binds an address, so the host must be an IP or "localhost".
Status check_bind_urls(std::span<const Url> urls, std::string_view flag) {
  for (const Url& url : urls) {
    in6_addr address6{};
    in_addr address4{};
    if (url.host == "localhost" || inet_pton(AF_INET, url.host.c_str(), &address4) == 1 ||
        inet_pton(AF_INET6, url.host.c_str(), &address6) == 1) {
      continue;
    }
    return Status::invalid_argument(std::string(flag) + ": expected IP in URL for binding (" +
                                    url.text + ")");
  }
  return Status::ok();
}

// embed.Config.Validate's timing rules, with etcd's own wording.
Status check_timing(const MemberConfig& config) {
  const auto ms = [](uint64_t value) { return std::to_string(value) + "ms"; };
  if (config.heartbeat_interval_ms == 0) {
    return Status::invalid_argument("--heartbeat-interval must be >0 (set to 0ms)");
  }
  if (config.election_timeout_ms == 0) {
    return Status::invalid_argument("--election-timeout must be >0 (set to 0ms)");
  }
  // etcd's 5 × heartbeat > election, as a division so a huge heartbeat cannot overflow.
  if (config.heartbeat_interval_ms > config.election_timeout_ms / 5) {
    return Status::invalid_argument("--election-timeout[" + ms(config.election_timeout_ms) +
                                    "] should be at least as 5 times as --heartbeat-interval[" +
                                    ms(config.heartbeat_interval_ms) + "]");
  }
  if (config.election_timeout_ms > kMaxElectionTimeoutMs) {
    return Status::invalid_argument("--election-timeout[" + ms(config.election_timeout_ms) +
                                    "] is too long, and should be set less than " +
                                    ms(kMaxElectionTimeoutMs));
  }
  return Status::ok();
}

std::vector<std::string> sorted_texts(std::span<const Url> urls) {
  std::vector<std::string> texts;
  for (const Url& url : urls) texts.push_back(url.text);
  std::sort(texts.begin(), texts.end());
  return texts;
}

std::string join(std::span<const std::string> parts) {
  std::string out;
  for (const std::string& part : parts) out += (out.empty() ? "" : ",") + part;
  return out;
}

// etcdserver.MemberConfig.VerifyBootstrap / VerifyJoinExisting. Every member derives every id
// from --initial-cluster, so two members must not share a URL, this member must be in it, and
// a new cluster must list this member at exactly the URLs it advertises.
Status check_initial_cluster(const MemberConfig& config) {
  std::map<std::string, std::string> owner_of_url;
  for (const InitialClusterMember& member : config.initial_cluster) {
    for (const Url& url : member.peer_urls) {
      const auto [it, inserted] = owner_of_url.emplace(url.text, member.name);
      if (!inserted) {
        return Status::invalid_argument("--initial-cluster has duplicate url " + url.text +
                                        " (members " + in_quotes(it->second) + " and " +
                                        in_quotes(member.name) + ")");
      }
    }
  }
  const auto local =
      std::find_if(config.initial_cluster.begin(), config.initial_cluster.end(),
                   [&](const InitialClusterMember& m) { return m.name == config.name; });
  if (local == config.initial_cluster.end()) {
    return Status::invalid_argument("couldn't find local name " + in_quotes(config.name) +
                                    " in the initial cluster configuration");
  }
  if (config.initial_cluster_state != InitialClusterState::kNew) return Status::ok();
  // etcd also resolves host names before comparing; we compare the URLs as written.
  const std::vector<std::string> in_cluster = sorted_texts(local->peer_urls);
  const std::vector<std::string> advertised = sorted_texts(config.initial_advertise_peer_urls);
  if (in_cluster == advertised) return Status::ok();
  return Status::invalid_argument(
      "--initial-cluster has " + format_initial_cluster(std::span(&*local, 1)) +
      " but --initial-advertise-peer-urls is " + join(advertised) +
      "; a new cluster must list this member at exactly its advertised peer URLs");
}

Status validate(const MemberConfig& config, std::span<const Setting> settings, Source source) {
  if (config.name.empty()) return Status::invalid_argument("--name must not be empty");
  if (Status s = check_bind_urls(config.listen_peer_urls, "--listen-peer-urls"); !s) return s;
  if (Status s = check_bind_urls(config.listen_client_urls, "--listen-client-urls"); !s) return s;
  if (Status s = check_timing(config); !s) return s;
  // etcdmain.configFromCmdLine drops the default advertised client URL once the listener is
  // moved, so a server listening on 0.0.0.0 never advertises 127.0.0.1 by accident. (etcd's
  // config-file path keeps the default, and so do we.)
  if (source == Source::kFlagsAndEnvironment && is_set(settings, "listen-client-urls") &&
      !is_set(settings, "advertise-client-urls")) {
    return Status::invalid_argument(
        "--advertise-client-urls is required when --listen-client-urls is set explicitly");
  }
  if (config.max_txn_ops == 0) {
    return Status::invalid_argument("--max-txn-ops must be >0: no transaction could run");
  }
  // The replicated command format bounds every op list at etcd's default (kv_limits), and
  // every replica checks it again when applying: a larger limit would admit txns that fail.
  if (config.max_txn_ops > kv_limits::kMaxTxnOps) {
    return Status::invalid_argument("--max-txn-ops " + std::to_string(config.max_txn_ops) +
                                    " is above " + std::to_string(kv_limits::kMaxTxnOps) +
                                    ", the most this build's command format carries");
  }
  if (config.max_request_bytes == 0) {
    return Status::invalid_argument("--max-request-bytes must be >0: no request could be accepted");
  }
  return check_initial_cluster(config);
}

Result<MemberConfig> finish(MemberConfig config, std::span<const Setting> settings, Source source) {
  if (Status s = apply_settings(settings, config); !s) return s;
  fill_derived_defaults(settings, config);
  if (Status s = validate(config, settings, source); !s) return s;
  return config;
}

std::string ignored_by_config_file(std::span<const Setting> from_flags,
                                   const std::map<std::string, std::string>& env) {
  std::string ignored;
  for (const Setting& setting : from_flags) {
    if (setting.flag->name != "config-file") {
      ignored += (ignored.empty() ? "" : ", ") + setting.source;
    }
  }
  for (const auto& [key, value] : env) {
    if (key.starts_with("ETCD_") && key != "ETCD_CONFIG_FILE") {
      ignored += (ignored.empty() ? "" : ", ") + key;
    }
  }
  return ignored;
}

MemberConfig only_action(ConfigAction action) {
  MemberConfig config;
  config.action = action;
  return config;
}

}  // namespace

MemberConfig::MemberConfig() {
  for (const FlagSpec& flag : kFlags) {
    if (is_derived(flag)) continue;
    const Status parsed = flag.set(*this, flag.default_text);
    DENGINE_CHECK_MSG(parsed.is_ok(), std::string(flag.name) + "'s default " +
                                          std::string(flag.default_text) + ": " + parsed.message());
  }
  data_dir = name + ".dengine";
  initial_cluster = {{name, initial_advertise_peer_urls}};
}

std::string_view initial_cluster_state_name(InitialClusterState state) {
  return state == InitialClusterState::kNew ? "new" : "existing";
}

Result<MemberConfig> parse_member_config(std::span<const std::string> args,
                                         const std::map<std::string, std::string>& env) {
  auto line = scan_command_line(args);
  if (!line) return line.status();
  if (line->action == ConfigAction::kHelp) return only_action(ConfigAction::kHelp);

  // Flag values are checked even when a config file will replace them, as etcd's flag parser
  // does, and before --version is honoured.
  MemberConfig from_flags;
  if (Status s = apply_settings(line->settings, from_flags); !s) return s;
  if (line->action == ConfigAction::kVersion) return only_action(ConfigAction::kVersion);

  std::string config_file = from_flags.config_file;
  if (config_file.empty()) {
    const auto it = env.find("ETCD_CONFIG_FILE");
    if (it != env.end()) config_file = it->second;
  }

  MemberConfig config;
  if (!config_file.empty()) {
    config.config_file = config_file;
    if (const std::string ignored = ignored_by_config_file(line->settings, env); !ignored.empty()) {
      config.warnings.push_back("configuration is read from " + config_file +
                                "; other flags and environment variables are ignored: " + ignored);
    }
    auto settings = settings_from_file(config_file, config.warnings);
    if (!settings) return settings.status();
    return finish(std::move(config), *settings, Source::kConfigFile);
  }

  auto from_env = settings_from_environment(env, line->settings, config.warnings);
  if (!from_env) return from_env.status();
  // No flag has both a flag and a variable (that is an error above), so order is immaterial.
  std::vector<Setting> settings = std::move(*from_env);
  settings.insert(settings.end(), line->settings.begin(), line->settings.end());
  return finish(std::move(config), settings, Source::kFlagsAndEnvironment);
}

std::string member_config_usage() {
  std::string text =
      "Usage:\n\n"
      "  dengine-server [flags]\n"
      "    Start a dengine server; flags, environment and config file follow etcd 3.4.\n\n"
      "  dengine-server --version\n"
      "    Show the version of dengine-server.\n\n"
      "  dengine-server -h | --help\n"
      "    Show this help.\n\n"
      "Every flag may also be given as an environment variable ETCD_<FLAG> (upper case, '-' as\n"
      "'_'), e.g. ETCD_DATA_DIR. A flag given both ways is an error.\n\n"
      "Flags:\n";
  for (const FlagSpec& flag : kFlags) {
    text += "  --" + std::string(flag.name) + " '" + std::string(flag.default_text) + "'\n    " +
            std::string(flag.help) + "\n";
  }
  return text;
}

Result<Url> parse_url(std::string_view text, std::string_view what) {
  text = trim_spaces(text);  // as etcd's types.NewURLs
  const auto fail = [&](std::string_view problem) -> Status {
    std::string message = what.empty() ? "" : std::string(what) + ": ";
    return Status::invalid_argument(message + "URL " + in_quotes(text) + " " +
                                    std::string(problem));
  };
  if (text.empty()) return fail("is empty");
  const auto separator = text.find("://");
  if (separator == std::string_view::npos) {
    return fail("must be http://host:port or https://host:port");
  }
  std::string scheme(text.substr(0, separator));
  for (char& c : scheme) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (scheme != "http" && scheme != "https") {
    return fail("has scheme " + in_quotes(scheme) + "; only http and https are supported");
  }
  const std::string_view authority = text.substr(separator + 3);
  if (authority.find('/') != std::string_view::npos) return fail("must not contain a path");
  if (authority.find_first_of("?#@ \t") != std::string_view::npos) {
    return fail("must be only scheme://host:port");
  }

  std::string_view host;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos || authority.substr(close + 1, 1) != ":") {
      return fail("must have the form scheme://[ipv6]:port");
    }
    host = authority.substr(1, close - 1);
    port_text = authority.substr(close + 2);
    in6_addr address{};
    if (inet_pton(AF_INET6, std::string(host).c_str(), &address) != 1) {
      return fail("has an invalid IPv6 address");
    }
  } else {
    const auto colon = authority.rfind(':');
    if (colon == std::string_view::npos) return fail("has no port; the form is scheme://host:port");
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return fail("must put an IPv6 host in brackets");
  }
  if (host.empty()) return fail("has an empty host");
  auto port = parse_unsigned(port_text);
  if (!port || port_text.size() > 5 || *port > std::numeric_limits<uint16_t>::max()) {
    return fail("has an invalid port " + in_quotes(port_text));
  }
  // etcd hashes url.String(): the scheme lower-cased, the authority exactly as written.
  return Url{scheme, std::string(host), static_cast<uint16_t>(*port),
             scheme + "://" + std::string(authority)};
}

Result<std::vector<Url>> parse_url_list(std::string_view text, std::string_view what) {
  std::vector<Url> urls;
  for (const std::string_view part : split_on_commas(text)) {
    auto url = parse_url(part, what);
    if (!url) return url.status();
    urls.push_back(std::move(*url));
  }
  return urls;
}

// types.NewURLsMap. Empty entries (a trailing comma) are skipped as etcd does; names are trimmed,
// which etcd does not do (it would look for a member called " b" in "a=..., b=...").
Result<std::vector<InitialClusterMember>> parse_initial_cluster(std::string_view text) {
  std::vector<InitialClusterMember> members;
  for (const std::string_view entry : split_on_commas(text)) {
    if (trim_spaces(entry).empty()) continue;
    const auto equals = entry.find('=');
    if (equals == std::string_view::npos) {
      return Status::invalid_argument("entry " + in_quotes(entry) + " is not name=url");
    }
    const std::string name(trim_spaces(entry.substr(0, equals)));
    if (name.empty()) {
      return Status::invalid_argument("entry " + in_quotes(entry) + " has an empty name");
    }
    auto url = parse_url(entry.substr(equals + 1), "entry " + in_quotes(entry));
    if (!url) return url.status();
    auto member = std::find_if(members.begin(), members.end(),
                               [&](const InitialClusterMember& m) { return m.name == name; });
    if (member == members.end()) {
      member = members.insert(members.end(), InitialClusterMember{name, {}});
    }
    member->peer_urls.push_back(std::move(*url));
  }
  if (members.empty()) return Status::invalid_argument("lists no members");
  return members;
}

std::string format_initial_cluster(std::span<const InitialClusterMember> members) {
  std::string text;
  for (const InitialClusterMember& member : members) {
    for (const Url& url : member.peer_urls) {
      text += (text.empty() ? "" : ",") + member.name + "=" + url.text;
    }
  }
  return text;
}

}  // namespace dengine
