#include "resp_connection.hpp"

#include "../net/connect_tcp.hpp"

#include <fmt/format.h>

namespace pvwire::store::detail {

namespace {
constexpr std::size_t read_chunk = 64 * 1024;

struct ReplyFree {
    void operator()(void* r) const noexcept { freeReplyObject(r); }
};
}  // namespace

std::string_view RespResult::error_text() const noexcept {
    if (!reply) return error;
    if (reply->type == REDIS_REPLY_ERROR) return {reply->str, reply->len};
    return {};
}

RespConnection::RespConnection(asio::any_io_executor ex, std::size_t max_pending)
    : socket_(ex), connect_timer_(ex), reader_(redisReaderCreate()), max_pending_(max_pending) {
    if (!reader_) throw std::bad_alloc();
}

RespConnection::~RespConnection() { redisReaderFree(reader_); }

void RespConnection::connect(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout,
                             std::function<void(const std::string&)> done) {
    auto self = shared_from_this();
    auto finished = std::make_shared<bool>(false);
    connect_timer_.expires_after(timeout);
    connect_timer_.async_wait([self, finished, done, host, port](boost::system::error_code ec) {
        if (ec || *finished) return;
        *finished = true;
        self->socket_.close(ec);
        done(fmt::format("no connection to {}:{} within the timeout", host, port));
    });
    net::ServerAddress address;
    address.host = host;
    address.port = port;
    net::detail::connect_tcp(
        address, socket_.get_executor(),
        [self, finished, done](boost::system::error_code ec, asio::ip::tcp::socket socket, std::string error) {
            if (*finished) return;
            *finished = true;
            self->connect_timer_.cancel();
            if (ec) return done(error);
            self->socket_ = std::move(socket);
            self->socket_.set_option(asio::ip::tcp::no_delay(true), ec);
            self->open_ = true;
            self->start_read();
            self->start_write();
            done({});
        });
}

bool RespConnection::send_argv(ReplyHandler handler) {
    if (!open_ || waiting_.size() >= max_pending_) return false;
    char* command = nullptr;
    const int n = redisFormatCommandArgv(&command, int(argv_.size()), argv_.data(), lengths_.data());
    if (n < 0) throw std::bad_alloc();
    outbox_.append(command, std::size_t(n));
    redisFreeCommand(command);
    waiting_.push_back(std::move(handler));
    start_write();
    return true;
}

void RespConnection::start_write() {
    if (writing_ || !open_ || outbox_.empty()) return;
    writing_ = true;
    in_flight_.swap(outbox_);
    outbox_.clear();
    asio::async_write(socket_, asio::buffer(in_flight_),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                          self->writing_ = false;
                          self->in_flight_.clear();
                          if (ec) return self->fail("write to the store failed: " + ec.message());
                          self->start_write();
                      });
}

void RespConnection::start_read() {
    inbox_.resize(read_chunk);
    socket_.async_read_some(asio::buffer(inbox_), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
        if (ec) return self->fail(ec == asio::error::eof ? std::string("the store closed the connection")
                                                         : "read from the store failed: " + ec.message());
        self->on_bytes(n);
    });
}

void RespConnection::on_bytes(std::size_t n) {
    if (redisReaderFeed(reader_, inbox_.data(), n) != REDIS_OK) return fail("the store's reply could not be buffered");
    for (;;) {
        void* raw = nullptr;
        if (redisReaderGetReply(reader_, &raw) != REDIS_OK)
            return fail(fmt::format("the store sent a malformed reply: {}", reader_->errstr));
        if (!raw) break;
        std::unique_ptr<void, ReplyFree> reply(raw);
        const auto* r = static_cast<const redisReply*>(raw);
        if (!waiting_.empty()) {
            auto handler = std::move(waiting_.front());
            waiting_.pop_front();
            handler(RespResult{r, {}});
        } else if (push_) {
            push_(*r);
        }
        if (!open_) return;  // a handler closed it
    }
    start_read();
}

void RespConnection::fail(const std::string& reason) {
    if (!open_) return;
    open_ = false;
    boost::system::error_code ignored;
    socket_.close(ignored);
    auto waiting = std::move(waiting_);
    waiting_.clear();
    outbox_.clear();
    for (auto& h : waiting) h(RespResult{nullptr, reason});
    if (closed_) closed_(reason);
}

void RespConnection::close(const std::string& reason) { fail(reason); }

}  // namespace pvwire::store::detail
