#pragma once

// A real redis-server for the store tests: started on a free loopback port in a temporary
// directory, with the append-only file on and fsync at every write (appendfsync always), so
// that a kill -9 loses nothing Redis acknowledged. kill() and start() again keep the directory:
// the restarted server replays the AOF. Without redis-server on the PATH the tests fail in CI
// (test::missing_precondition) rather than pass without checking anything.

#include "support/precondition.hpp"

#include <boost/asio.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace pvwire::test {

class RedisServer {
public:
    /// Starts one; `available()` is false (and the precondition reported) without redis-server.
    RedisServer() {
        if (std::system("command -v redis-server >/dev/null 2>&1") != 0) {
            missing_precondition("redis-server on the PATH (Debian package redis-server)");
            return;
        }
        char tmpl[] = "/tmp/pvwire-redis-XXXXXX";
        if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
        dir_ = tmpl;
        port_ = free_port();
        start();
    }
    ~RedisServer() {
        stop(SIGTERM);
        std::error_code ec;
        if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
    }
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    bool available() const noexcept { return port_ != 0; }
    std::uint16_t port() const noexcept { return port_; }
    std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

    /// Starts redis-server (again, on the same port and directory) and waits until it answers.
    void start() {
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            const std::string port = std::to_string(port_);
            execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--dir",
                   dir_.c_str(), "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--logfile",
                   "redis.log", "--daemonize", "no", static_cast<char*>(nullptr));
            _exit(127);
        }
        wait_until_answering();
    }
    /// kill -9 (or another signal) and reap it.
    void stop(int signal = SIGKILL) {
        if (pid_ <= 0) return;
        ::kill(pid_, signal);
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
    }
    /// Runs redis-cli against it with `args` (already quoted for the shell); its output.
    std::string cli(const std::string& args) const {
        const std::string out = dir_ + "/cli.out";
        const std::string cmd = "redis-cli -p " + std::to_string(port_) + " " + args + " > " + out + " 2>&1";
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("redis-cli failed: " + cmd);
        std::ifstream in(out);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

private:
    static std::uint16_t free_port() {
        boost::asio::io_context io;
        boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
        return a.local_endpoint().port();
    }
    void wait_until_answering() {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            boost::asio::io_context io;
            boost::asio::ip::tcp::socket s(io);
            boost::system::error_code ec;
            s.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
            if (!ec && cli("PING").find("PONG") != std::string::npos) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        throw std::runtime_error("redis-server did not answer on port " + std::to_string(port_));
    }

    std::string dir_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace pvwire::test
