// `httpkv export` and `httpkv import` (the real client binary) against the real server:
// DataBase.txt-style key:value files round-trip, malformed lines load nothing, answers
// that close the connection (413) are reported and the rest still loads.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/e2e/server_process.h"
#include "tests/e2e/test_server.h"

namespace httpkv::e2e {
namespace {

struct ClientRun {
  int code = -1;
  std::string out, err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

// Runs `httpkv --target 127.0.0.1:PORT ARGS`, stdout and stderr kept apart.
ClientRun RunClient(const TempDir& dir, uint16_t port, const std::string& args) {
  const std::string err_path = dir.path() + "/client.err";
  const std::string cmd = std::string(HTTPKV_CLIENT_BIN) +
                          " --target 127.0.0.1:" + std::to_string(port) + " " + args + " 2>" +
                          err_path;
  ClientRun r;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(f);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = ReadFile(err_path);
  return r;
}

size_t Lines(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

class ImportExport : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "--listen", "127.0.0.1:0", "--data-dir", dir_.path() + "/data", "--threads", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_TRUE(srv_.Start(args)) << srv_.log();
  }
  std::string File(const std::string& name) const { return dir_.path() + "/" + name; }

  TempDir dir_;
  ServerProcess srv_;
};

TEST_F(ImportExport, OriginalDatabaseFileRoundTrips) {
  Start();
  // The original DataBase.txt after client.py ran, plus pairs that stress the format.
  const std::string db =
      "1:test5\n2:test2\nurl:http://h:8080/x?a=b\nsp ace:v a l\n%41:pct\ncaf\xc3\xa9:\xe2\x82\xac\n"
      "empty:\n";
  WriteFile(File("DataBase.txt"), db);
  ClientRun imp = RunClient(dir_, srv_.port(), "import " + File("DataBase.txt"));
  ASSERT_EQ(imp.code, 0) << imp.err;
  EXPECT_EQ(imp.out, "imported 7 of 7 pairs from " + File("DataBase.txt") + "\n");
  EXPECT_EQ(Request(srv_.port(), "GET", "/kv/url").body, "http://h:8080/x?a=b");
  EXPECT_EQ(Request(srv_.port(), "GET", "/kv/%2541").body, "pct");

  ClientRun exp = RunClient(dir_, srv_.port(), "export");
  ASSERT_EQ(exp.code, 0) << exp.err;
  // Keys in byte order, as GET / lists them.
  EXPECT_EQ(exp.out,
            "%41:pct\n1:test5\n2:test2\ncaf\xc3\xa9:\xe2\x82\xac\nempty:\nsp ace:v a l\n"
            "url:http://h:8080/x?a=b\n");
  EXPECT_EQ(exp.out, Request(srv_.port(), "GET", "/").body);
}

TEST_F(ImportExport, ExportPagesThroughABigStore) {
  Start();
  std::string db;
  for (int i = 0; i < 1000; ++i)
    db += "k" + std::to_string(100000 + i) + ":v" + std::to_string(i) + "\n";
  WriteFile(File("big.txt"), db);
  ASSERT_EQ(RunClient(dir_, srv_.port(), "import " + File("big.txt")).code, 0);
  ClientRun exp = RunClient(dir_, srv_.port(), "export");
  ASSERT_EQ(exp.code, 0) << exp.err;
  EXPECT_EQ(exp.out, db);  // already in byte order
  EXPECT_EQ(exp.err, "httpkv: exported 1000 pairs\n");
}

TEST_F(ImportExport, PairsALineCannotHoldAreReportedNotWritten) {
  Start();
  ASSERT_EQ(Request(srv_.port(), "PUT", "/kv/a%3Ab", "x").status, 201);  // key "a:b"
  ASSERT_EQ(Request(srv_.port(), "PUT", "/kv/nl", "two\nlines").status, 201);
  ASSERT_EQ(Request(srv_.port(), "PUT", "/kv/ok", "fine").status, 201);
  ClientRun exp = RunClient(dir_, srv_.port(), "export");
  EXPECT_EQ(exp.code, 1);
  EXPECT_EQ(exp.out, "ok:fine\n");
  EXPECT_NE(exp.err.find("key contains ':': key \"a:b\""), std::string::npos) << exp.err;
  EXPECT_NE(exp.err.find("value contains a line break: key \"nl\""), std::string::npos);
}

TEST_F(ImportExport, MalformedLinesAreReportedAndNothingIsLoaded) {
  Start();
  WriteFile(File("bad.txt"), "1:test1\nno colon here\n:empty key\n2:test2\n\n3:test3\n");
  ClientRun imp = RunClient(dir_, srv_.port(), "import " + File("bad.txt"));
  EXPECT_EQ(imp.code, 1);
  EXPECT_EQ(imp.err,
            "httpkv: " + File("bad.txt") + ":2: no ':' between key and value: \"no colon here\"\n" +
                "httpkv: " + File("bad.txt") + ":3: empty key: \":empty key\"\n" +
                "httpkv: " + File("bad.txt") + ":5: empty line: \"\"\n" +
                "httpkv: " + File("bad.txt") + ": 3 of 6 lines malformed; nothing imported\n");
  EXPECT_EQ(Request(srv_.port(), "GET", "/").body, "");
}

TEST_F(ImportExport, RefusedValuesAreReportedAndTheRestLoads) {
  Start({"--max-value", "16"});
  std::string db;
  for (int i = 0; i < 300; ++i) {
    const bool big = i == 3 || i == 150 || i == 151 || i == 299;
    db += "k" + std::to_string(1000 + i) + ":" + (big ? std::string(40, 'x') : "v") + "\n";
  }
  WriteFile(File("db.txt"), db);
  ClientRun imp = RunClient(dir_, srv_.port(), "import " + File("db.txt"));
  EXPECT_EQ(imp.code, 1) << imp.err;
  EXPECT_EQ(imp.out,
            "imported 296 of 300 pairs from " + File("db.txt") + " (4 refused by the server)\n");
  EXPECT_EQ(Lines(imp.err), 4u) << imp.err;
  for (int line : {4, 151, 152, 300}) {
    EXPECT_NE(imp.err.find(File("db.txt") + ":" + std::to_string(line) + ": 413"),
              std::string::npos)
        << line << "\n"
        << imp.err;
  }
  EXPECT_EQ(Lines(Request(srv_.port(), "GET", "/").body), 296u);
  EXPECT_EQ(Request(srv_.port(), "GET", "/kv/k1004").body, "v");
  EXPECT_EQ(Request(srv_.port(), "GET", "/kv/k1003").status, 404);
}

TEST_F(ImportExport, LaterLinesForTheSameKeyWin) {
  Start();
  WriteFile(File("dup.txt"), "1:test1\n2:test2\n1:test5\r\n");  // CRLF accepted
  ASSERT_EQ(RunClient(dir_, srv_.port(), "import " + File("dup.txt")).code, 0);
  EXPECT_EQ(Request(srv_.port(), "GET", "/").body, "1:test5\n2:test2\n");
}

TEST_F(ImportExport, MissingFileIsAnIoError) {
  Start();
  ClientRun imp = RunClient(dir_, srv_.port(), "import " + File("none.txt"));
  EXPECT_EQ(imp.code, 3);
  EXPECT_EQ(Lines(imp.err), 1u) << imp.err;
}

}  // namespace
}  // namespace httpkv::e2e
