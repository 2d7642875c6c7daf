// httpkv: command-line client for httpkv-server (SPEC "Routes").
//
// Exit codes: 0 success, 1 HTTP error status, scenario mismatch, or a pair/line that
// export/import reported, 2 usage error, 3 connection, I/O, timeout or protocol error.
#include <CLI/CLI.hpp>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cluster/routes.h"
#include "reactor/inet_address.h"
#include "tools/client/cluster_commands.h"
#include "tools/client/cluster_watch.h"
#include "tools/client/http_client.h"
#include "tools/client/pair_file.h"
#include "tools/client/scenario.h"
#include "tools/client/watch.h"

namespace {

namespace client = httpkv::client;

constexpr int kExitHttpError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitIo = 3;

struct Flags {
  std::string target = "127.0.0.1:8080";
  bool verbose = false;
  double timeout_s = 5;
  std::string key, value, pair;
  client::ListOptions list;
  bool reset = false;
  std::string import_file;
  std::string token;  // --token or HTTPKV_TOKEN
  client::TlsOptions tls;
  std::optional<uint64_t> ttl;
  client::WatchOptions watch;
  std::string since;         // watch --since: SEQ, or OWNER=SEQ,… with --cluster
  std::string cluster_file;  // --cluster FILE
  std::vector<std::string> owner_keys;
};

// What the chosen subcommand does with a 2xx answer.
enum class OnSuccess { kWriteBody, kPrintStatus };

struct Command {
  client::ClientRequest request;
  OnSuccess on_success = OnSuccess::kPrintStatus;
};

struct Cli {
  CLI::App app{"httpkv — command-line client for httpkv-server", "httpkv"};
  CLI::App* get = nullptr;
  CLI::App* put = nullptr;
  CLI::App* del = nullptr;
  CLI::App* list = nullptr;
  CLI::App* create = nullptr;
  CLI::App* update = nullptr;
  CLI::App* scenario = nullptr;
  CLI::App* exp = nullptr;
  CLI::App* imp = nullptr;
  CLI::App* watch = nullptr;
  CLI::App* owner = nullptr;
};

void DefineOptions(Cli* cli, Flags* f) {
  CLI::App& app = cli->app;
  app.require_subcommand(1);
  app.add_option("--target", f->target, "server HOST:PORT")->capture_default_str();
  app.add_option("--token", f->token,
                 "bearer token for a server with --auth-file (default: $HTTPKV_TOKEN, which "
                 "keeps it out of the process list)")
      ->envname("HTTPKV_TOKEN");
  app.add_flag("--tls", f->tls.enabled, "speak HTTPS (verifies the server certificate)");
  app.add_option("--cacert", f->tls.cacert,
                 "PEM file of CA certificates to verify the server with (default: system store)");
  app.add_option("--cluster", f->cluster_file,
                 "cluster.json of a cluster (tools/cluster.sh): keyed commands go straight to "
                 "their key's owner (the shard's primary with replicas), keyless ones to the "
                 "front; on 421, 503 or a refused connection FILE is re-read and the request "
                 "retried once (replaces --target)");
  app.add_flag("-v,--verbose", f->verbose, "print raw request and response bytes to stderr");
  app.add_option("--timeout", f->timeout_s, "seconds allowed for connecting and for each exchange")
      ->check(CLI::Validator(
          [](std::string& in) -> std::string {
            const double s = std::strtod(in.c_str(), nullptr);
            return s > 0 && s <= 86400 ? "" : "must be between 0 and 86400 seconds";
          },
          "SECONDS"))
      ->capture_default_str();
  cli->get = app.add_subcommand("get", "GET /kv/KEY; writes the value to stdout");
  cli->get->add_option("KEY", f->key)->required();
  cli->put = app.add_subcommand("put", "PUT /kv/KEY with VALUE as the raw body");
  cli->put->add_option("KEY", f->key)->required();
  cli->put->add_option("VALUE", f->value)->required();
  cli->put->add_option("--ttl", f->ttl, "expire the value after S seconds")
      ->check(CLI::Range(uint64_t{1}, uint64_t{315360000}));
  cli->watch = app.add_subcommand(
      "watch",
      "follow the change feed; prints events as they come (with --cluster: every owner's feed "
      "merged, each event's id the cursor OWNER=SEQ,… that --since takes back)");
  cli->watch->add_option("--prefix", f->watch.prefix, "only keys starting with P");
  cli->watch->add_option("--since", f->since,
                         "start after SEQ (default: now); with --cluster also OWNER=SEQ,… (the "
                         "merged events' id), owners not named from now");
  cli->del = app.add_subcommand("delete", "DELETE /kv/KEY");
  cli->del->add_option("KEY", f->key)->required();
  cli->list = app.add_subcommand("list", "GET / (the key:value listing)");
  cli->list->add_option("--prefix", f->list.prefix, "only keys starting with P");
  cli->list->add_option("--after", f->list.after, "only keys after A (byte order)");
  cli->list->add_option("--limit", f->list.limit, "at most N pairs");
  cli->list->add_flag("--json", f->list.json, "ask for JSON (Accept: application/json)");
  cli->create = app.add_subcommand("create", "POST /create with body KEY:VALUE");
  cli->create->add_option("KEY:VALUE", f->pair)->required();
  cli->update = app.add_subcommand("update", "PUT /update with body KEY:VALUE");
  cli->update->add_option("KEY:VALUE", f->pair)->required();
  cli->scenario = app.add_subcommand("scenario", "replay the seed walk-through (8 requests)");
  cli->scenario->add_flag("--reset", f->reset, "first DELETE the keys the walk-through creates");
  cli->exp = app.add_subcommand(
      "export", "write every pair to stdout as key:value lines (the original DataBase.txt)");
  cli->imp = app.add_subcommand(
      "import", "load a key:value file (one pipelined PUT /kv/KEY per line; see README)");
  cli->imp->add_option("FILE", f->import_file)->required();
  cli->owner = app.add_subcommand(
      "owner", "with --cluster: print each KEY's owner (node, or shard with replicas), one a line");
  cli->owner
      ->add_option("KEY", f->owner_keys, "keys (raw bytes); - reads one key a line from stdin")
      ->required();
}

std::optional<uint64_t> ParseSince(const std::string& text) {
  uint64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

// The key a keyed command's request is placed by (nullopt: a keyless command).
std::optional<std::string> KeyOf(const Cli& cli, const Flags& f) {
  if (cli.get->parsed() || cli.put->parsed() || cli.del->parsed()) return f.key;
  if (cli.create->parsed() || cli.update->parsed()) return std::string(client::PairKey(f.pair));
  return std::nullopt;
}

// The request of a single (non-scenario) subcommand.
Command BuildCommand(const Cli& cli, const Flags& f) {
  if (cli.get->parsed()) return {client::GetKeyRequest(f.key), OnSuccess::kWriteBody};
  if (cli.put->parsed()) {
    client::ClientRequest req = client::PutKeyRequest(f.key, f.value);
    if (f.ttl) req.target += "?ttl=" + std::to_string(*f.ttl);
    return {req};
  }
  if (cli.del->parsed()) return {client::DeleteKeyRequest(f.key)};
  if (cli.list->parsed()) return {client::ListRequest(f.list), OnSuccess::kWriteBody};
  if (cli.create->parsed()) return {client::PairRequest("POST", "/create", f.pair)};
  return {client::PairRequest("PUT", "/update", f.pair)};
}

// Prints an answer: the body (get, list) or the status line on 2xx; the status on stderr
// otherwise.
int Report(const client::ClientResponse& resp, OnSuccess on_success) {
  if (resp.status / 100 != 2) {
    std::cerr << "httpkv: " << resp.StatusLine();
    const std::string_view first = client::FirstLine(resp.body);
    if (!first.empty()) std::cerr << ": " << first;
    std::cerr << "\n";
    return kExitHttpError;
  }
  if (on_success == OnSuccess::kWriteBody) {
    std::cout.write(resp.body.data(), static_cast<std::streamsize>(resp.body.size()));
  } else {
    std::cout << resp.StatusLine() << "\n";
  }
  std::cout.flush();
  return std::cout ? 0 : kExitIo;
}

int RunCommand(client::HttpClient& http, const Command& cmd) {
  client::ClientResponse resp;
  std::string error;
  if (!http.RoundTrip(cmd.request, &resp, &error)) {
    std::cerr << "httpkv: " << http.host() << ": " << error << "\n";
    return kExitIo;
  }
  return Report(resp, cmd.on_success);
}

std::chrono::milliseconds Timeout(const Flags& f) {
  return std::chrono::milliseconds(static_cast<int64_t>(f.timeout_s * 1000) + 1);
}

// Opens connections to any HOST:PORT with the flags' timeout, TLS, trace and token.
client::AddressConnector MakeConnector(const Flags& f) {
  client::TlsOptions tls = f.tls;
  tls.enabled = tls.enabled || !tls.cacert.empty();  // --cacert alone means HTTPS too
  return
      [&f, tls](const std::string& target, std::string* err) -> std::optional<client::HttpClient> {
        const std::optional<httpkv::reactor::InetAddress> address =
            httpkv::reactor::InetAddress::Parse(target, err);
        if (!address) return std::nullopt;
        std::optional<client::HttpClient> c =
            client::HttpClient::Connect(*address, target, Timeout(f), err, tls);
        if (c && f.verbose) c->set_trace(&std::cerr);
        if (c) c->set_bearer_token(f.token);
        return c;
      };
}

// --cluster: owner, watch and the keyed commands here (their exit code); the keyless ones
// (list, scenario, export, import) go to the front: nullopt, with f->target set to it.
std::optional<int> RunCluster(const Cli& cli, Flags* fp) {
  const Flags& f = *fp;
  httpkv::cluster::Routes routes;
  std::string error;
  if (!routes.Load(f.cluster_file, Timeout(f), &error)) {
    std::cerr << "httpkv: --cluster: " << error << "\n";
    return kExitUsage;
  }
  if (cli.owner->parsed())
    return client::RunOwners(routes.map(), f.owner_keys, std::cin, std::cout);
  if (cli.watch->parsed()) {
    std::vector<std::optional<uint64_t>> since;
    if (!client::ParseClusterSince(f.since, routes.map().placement().names(), &since, &error)) {
      std::cerr << "httpkv: " << error << "\n";
      return kExitUsage;
    }
    return client::RunClusterWatch(routes, f.watch.prefix, since, std::cout, std::cerr);
  }
  if (const std::optional<std::string> key = KeyOf(cli, f)) {
    const Command cmd = BuildCommand(cli, f);
    client::ClientResponse resp;
    if (!client::ClusterRoundTrip(routes, *key, cmd.request, MakeConnector(f), &resp, &error)) {
      std::cerr << "httpkv: " << error << "\n";
      return kExitIo;
    }
    return Report(resp, cmd.on_success);
  }
  fp->target = routes.map().front();
  return std::nullopt;
}

int Run(const Cli& cli, Flags f) {
  std::string error;
  if (!f.token.empty() && !client::IsBearerToken(f.token)) {
    std::cerr << "httpkv: --token: not a bearer token (A-Z a-z 0-9 - . _ ~ + / then =)\n";
    return kExitUsage;
  }
  if (!f.cluster_file.empty()) {
    if (const std::optional<int> rc = RunCluster(cli, &f)) return *rc;
  } else if (cli.owner->parsed()) {
    std::cerr << "httpkv: owner needs --cluster FILE\n";
    return kExitUsage;
  }
  const std::optional<httpkv::reactor::InetAddress> address =
      httpkv::reactor::InetAddress::Parse(f.target, &error);
  if (!address) {
    std::cerr << "httpkv: --target: " << error << "\n";
    return kExitUsage;
  }
  const client::AddressConnector connector = MakeConnector(f);
  auto connect = [&](std::string* err) { return connector(f.target, err); };
  if (cli.imp->parsed()) return client::RunImport(connect, f.import_file, std::cout, std::cerr);
  if (cli.watch->parsed()) {
    if (!f.since.empty() && !(f.watch.since = ParseSince(f.since))) {
      std::cerr << "httpkv: --since: want a SEQ (a number)\n";
      return kExitUsage;
    }
    return client::RunWatch(*address, f.target, f.watch, std::cout, std::cerr);
  }
  std::optional<client::HttpClient> http = connect(&error);
  if (!http) {
    std::cerr << "httpkv: " << error << "\n";
    return kExitIo;
  }
  if (cli.exp->parsed()) return client::RunExport(*http, std::cout, std::cerr);
  if (cli.scenario->parsed()) return client::RunScenario(*http, f.reset, std::cout, std::cerr);
  return RunCommand(*http, BuildCommand(cli, f));
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli;
  Flags flags;
  DefineOptions(&cli, &flags);
  try {
    cli.app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return cli.app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "httpkv: " << e.what() << " (see httpkv --help)\n";
    return kExitUsage;
  }
  std::signal(SIGPIPE, SIG_IGN);  // TLS writes use write(2): a reset peer is an error, not death
  return Run(cli, flags);
}
