// httpkv: command-line client for httpkv-server (SPEC "Routes").
//
// Exit codes: 0 success, 1 HTTP error status, scenario mismatch, or a pair/line that
// export/import reported, 2 usage error, 3 connection, I/O, timeout or protocol error.
#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "reactor/inet_address.h"
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
  cli->watch = app.add_subcommand("watch", "follow the change feed; prints events as they come");
  cli->watch->add_option("--prefix", f->watch.prefix, "only keys starting with P");
  cli->watch->add_option("--since", f->watch.since, "start after SEQ (default: now)");
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

int RunCommand(client::HttpClient& http, const Command& cmd) {
  client::ClientResponse resp;
  std::string error;
  if (!http.RoundTrip(cmd.request, &resp, &error)) {
    std::cerr << "httpkv: " << http.host() << ": " << error << "\n";
    return kExitIo;
  }
  if (resp.status / 100 != 2) {
    std::cerr << "httpkv: " << resp.StatusLine();
    const std::string_view first = client::FirstLine(resp.body);
    if (!first.empty()) std::cerr << ": " << first;
    std::cerr << "\n";
    return kExitHttpError;
  }
  if (cmd.on_success == OnSuccess::kWriteBody) {
    std::cout.write(resp.body.data(), static_cast<std::streamsize>(resp.body.size()));
  } else {
    std::cout << resp.StatusLine() << "\n";
  }
  std::cout.flush();
  return std::cout ? 0 : kExitIo;
}

int Run(const Cli& cli, const Flags& f) {
  std::string error;
  const std::optional<httpkv::reactor::InetAddress> address =
      httpkv::reactor::InetAddress::Parse(f.target, &error);
  if (!address) {
    std::cerr << "httpkv: --target: " << error << "\n";
    return kExitUsage;
  }
  if (!f.token.empty() && !client::IsBearerToken(f.token)) {
    std::cerr << "httpkv: --token: not a bearer token (A-Z a-z 0-9 - . _ ~ + / then =)\n";
    return kExitUsage;
  }
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(f.timeout_s * 1000) + 1);
  client::TlsOptions tls = f.tls;
  tls.enabled = tls.enabled || !tls.cacert.empty();  // --cacert alone means HTTPS too
  auto connect = [&](std::string* err) {
    std::optional<client::HttpClient> c =
        client::HttpClient::Connect(*address, f.target, timeout, err, tls);
    if (c && f.verbose) c->set_trace(&std::cerr);
    if (c) c->set_bearer_token(f.token);
    return c;
  };
  if (cli.imp->parsed()) return client::RunImport(connect, f.import_file, std::cout, std::cerr);
  if (cli.watch->parsed())
    return client::RunWatch(*address, f.target, f.watch, std::cout, std::cerr);
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
