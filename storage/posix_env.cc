// PosixFileSystem: the production FileSystem (storage/env.h) over open/pread/pwrite/
// fdatasync/ftruncate/mmap and the directory calls.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "storage/env.h"

namespace httpkv::storage {

Status ErrnoStatus(std::string_view what, int err) {
  std::string msg = std::string(what) + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return Status::NoSpace(msg);
  return Status::IOError(msg);
}

MappedRegion::~MappedRegion() {
  if (addr_ != nullptr) munmap(addr_, size_);
}

void MappedRegion::MakeReadOnly() {
  if (!writable_ || addr_ == nullptr) return;
  writable_ = false;
  // Only a guard against stray writes: failure leaves the view writable, nothing else.
  (void)mprotect(addr_, size_, PROT_READ);
}

namespace {

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override { close(fd_); }

  Status Pread(uint64_t offset, size_t n, char* buf, size_t* got) override {
    *got = 0;
    while (*got < n) {
      ssize_t r = pread(fd_, buf + *got, n - *got, static_cast<off_t>(offset + *got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return ErrnoStatus("read " + path_, errno);
      if (r == 0) break;
      *got += static_cast<size_t>(r);
    }
    return Status::OK();
  }

  Status Pwrite(uint64_t offset, std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      // pwrite returning 0 for a regular file: give up rather than spin.
      if (n <= 0) {
        return ErrnoStatus("write " + path_ + " at offset " + std::to_string(offset),
                           n < 0 ? errno : EIO);
      }
      data.remove_prefix(static_cast<size_t>(n));
      offset += static_cast<uint64_t>(n);
    }
    return Status::OK();
  }

  Status Sync() override {
    if (fdatasync(fd_) != 0) return ErrnoStatus("fdatasync " + path_, errno);
    return Status::OK();
  }

  Status Truncate(uint64_t size) override {
    if (ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return ErrnoStatus("cannot truncate " + path_, errno);
    }
    return Status::OK();
  }

  Status Size(uint64_t* size) override {
    struct stat st;
    if (fstat(fd_, &st) != 0) return ErrnoStatus("cannot stat " + path_, errno);
    *size = static_cast<uint64_t>(st.st_size);
    return Status::OK();
  }

  Status Map(uint64_t size, MapMode mode, MappedRegion* out) override {
    *out = MappedRegion();
    if (size == 0) return Status::OK();
    const bool writable = mode == MapMode::kSharedWritable;
    void* p = mmap(nullptr, size, writable ? PROT_READ | PROT_WRITE : PROT_READ,
                   mode == MapMode::kPrivate ? MAP_PRIVATE : MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) return ErrnoStatus("cannot mmap " + path_, errno);
    if (mode == MapMode::kPrivate) madvise(p, size, MADV_SEQUENTIAL);
    *out = MappedRegion(p, size, writable);
    return Status::OK();
  }

  const std::string& path() const override { return path_; }

 private:
  const int fd_;
  const std::string path_;
};

class PosixFileSystem final : public FileSystem {
 public:
  Status Open(const std::string& path, OpenMode mode, std::unique_ptr<File>* out) override {
    int flags = O_CLOEXEC;
    switch (mode) {
      case OpenMode::kRead:
        flags |= O_RDONLY;
        break;
      case OpenMode::kReadWrite:
        flags |= O_RDWR;
        break;
      case OpenMode::kCreate:
        flags |= O_RDWR | O_CREAT | O_TRUNC;
        break;
      case OpenMode::kCreateExclusive:
        flags |= O_RDWR | O_CREAT | O_EXCL;
        break;
    }
    int fd = open(path.c_str(), flags, 0644);
    if (fd < 0) {
      if (errno == ENOENT) return Status::NotFound(path);
      return ErrnoStatus("cannot open " + path, errno);
    }
    *out = std::make_unique<PosixFile>(fd, path);
    return Status::OK();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("rename " + from, errno);
    return Status::OK();
  }

  Status Unlink(const std::string& path) override {
    if (unlink(path.c_str()) == 0) return Status::OK();
    if (errno == ENOENT) return Status::NotFound(path);
    return ErrnoStatus("unlink " + path, errno);
  }

  Status SyncDir(const std::string& dir) override {
    int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("cannot open dir " + dir, errno);
    const int rc = fsync(fd);
    const int err = errno;
    close(fd);
    return rc == 0 ? Status::OK() : ErrnoStatus("cannot fsync dir " + dir, err);
  }

  Status CreateDir(const std::string& dir) override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::IOError("cannot create dir " + dir + ": " + ec.message());
    return Status::OK();
  }

  Status List(const std::string& dir, std::vector<std::string>* names) override {
    names->clear();
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return ErrnoStatus("cannot list dir " + dir, errno);
    while (dirent* de = readdir(d)) {
      const std::string_view name = de->d_name;
      if (name != "." && name != "..") names->emplace_back(name);
    }
    closedir(d);
    return Status::OK();
  }

  bool Exists(const std::string& path) override { return access(path.c_str(), F_OK) == 0; }
};

}  // namespace

FileSystem* FileSystem::Default() {
  static PosixFileSystem fs;
  return &fs;
}

}  // namespace httpkv::storage
