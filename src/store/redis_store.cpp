// RedisStore: the layout and the consistency model are in docs/scale-out.md. The I/O thread
// owns both connections; the copy of the channels (`channels`) is shared with the callers'
// threads under `mu`. Watchers and completions are called with `mu` released.
#include <pvwire/store/redis_store.hpp>

#include "catalog_watchers.hpp"
#include "redis_scripts.hpp"
#include "resp_connection.hpp"

#include <pvwire/data/nt.hpp>
#include <pvwire/log.hpp>
#include <pvwire/net/interfaces.hpp>
#include <pvwire/msgpack/codec.hpp>

#include <fmt/format.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

namespace pvwire::store {

using detail::parse_u64;
using detail::RespConnection;
using detail::RespResult;
using detail::text_of;
namespace asio = boost::asio;

namespace {

// KEYS: channel hash, channel set, catalog channel. ARGV: name, type, incarnation, then the
// leaves as field, value pairs. 1: created; 0: it exists with this type.
constexpr std::string_view create_script = R"lua(
local t = redis.call('HGET', KEYS[1], '#type')
if t then
  if t == ARGV[2] then return 0 end
  return redis.error_reply('TYPE channel ' .. ARGV[1] .. ' exists with another type')
end
redis.call('HSET', KEYS[1], '#type', ARGV[2], '#inc', ARGV[3], '#ver', '0', unpack(ARGV, 4))
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PUBLISH', KEYS[3], '+' .. ARGV[1])
return 1
)lua";

// KEYS: channel hash, channel set, catalog channel. ARGV: name. 1: removed; 0: absent.
constexpr std::string_view remove_script = R"lua(
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('PUBLISH', KEYS[3], '-' .. ARGV[1])
return 1
)lua";

// KEYS: replica set. ARGV: this replica's member id, time to live in ms. Renews this replica,
// drops the expired ones (Redis's clock: the replicas' clocks may disagree) and returns the
// live members.
constexpr std::string_view heartbeat_script = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1)
)lua";

// How often a replica renews its membership, and how long it lives without renewal.
constexpr auto heartbeat_period = std::chrono::milliseconds(1000);
constexpr auto heartbeat_ttl = std::chrono::milliseconds(3000);

/// FNV-1a with MurmurHash3's finaliser: the same on every replica whatever its build
/// (std::hash is not specified), and mixed well enough that names differing in their last
/// characters spread evenly over the replicas (FNV-1a alone does not).
std::uint64_t stable_hash(std::string_view a, std::string_view b) {
    std::uint64_t h = 1469598103934665603ull;
    for (auto part : {a, std::string_view("\0", 1), b})
        for (unsigned char c : part) h = (h ^ c) * 1099511628211ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

// Lua's unpack() puts every argument on the C stack (about 8,000 slots).
constexpr std::size_t max_leaves = 3000;

std::span<const std::byte> bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string to_string(const std::vector<std::byte>& b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

/// The offsets of the leaves (fields that are not structures) a mark set selects: a marked
/// structure selects every leaf below it.
std::vector<std::uint32_t> leaves_of(const TypeDesc& t, const BitSet& marks) {
    std::vector<std::uint32_t> out;
    const auto& flat = t.flat();
    for (std::size_t b = marks.next(0); b != BitSet::npos && b < flat.size();) {
        const auto end = flat[b].end;
        for (auto off = std::uint32_t(b); off < end; ++off)
            if (flat[off].type->code() != TypeCode::Struct) out.push_back(off);
        b = marks.next(end);
    }
    return out;
}

/// "alarm.severity": the hash field of a leaf (readable with redis-cli).
std::string path_of(const TypeDesc& t, std::uint32_t off) {
    std::string path(t.flat()[off].name);
    for (auto p = t.flat()[off].parent; p != 0; p = t.flat()[p].parent)
        path = std::string(t.flat()[p].name) + "." + path;
    return path;
}

/// The value's leaves as hash fields and single-field msgpack partial documents.
std::vector<std::string> leaf_fields(const Value& v, const std::vector<std::uint32_t>& leaves) {
    std::vector<std::string> out;
    out.reserve(2 * leaves.size());
    std::vector<std::byte> doc;
    for (auto off : leaves) {
        doc.clear();
        pvwire::msgpack_codec::encode_partial(v, BitSet{off}, doc);
        out.push_back(path_of(v.type(), off));
        out.push_back(to_string(doc));
    }
    return out;
}

std::string new_incarnation() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    return fmt::format("{:016x}", rng());
}

/// This host in the replica set ("localhost" when it has no name).
std::string host_name() {
    auto host = net::host_name();
    return host.empty() ? std::string("localhost") : host;
}

/// The replica's name in the replica set: RedisConfig::replica, else the host name.
std::string replica_name(const RedisConfig& c) { return c.replica.empty() ? host_name() : c.replica; }

/// Shows in `v` that the store cannot be reached (what gets and monitors see): alarm severity
/// INVALID, status DRIVER, when the value has an alarm_t.
void mark_unreachable(Value& v) {
    Value alarm = v.field("alarm");
    if (!alarm || alarm.code() != TypeCode::Struct) return;
    try {
        nt::set_alarm(alarm, 3, 2, "store unreachable");
    } catch (const ValueError&) {  // an "alarm" that is not an alarm_t: nothing to show it in
    }
}

}  // namespace

RedisConfig RedisConfig::from_url(std::string_view url) {
    constexpr std::string_view scheme = "redis://";
    if (url.substr(0, scheme.size()) != scheme)
        throw std::invalid_argument(fmt::format("store URL '{}' does not start with redis://", url));
    RedisConfig c;
    std::string_view rest = url.substr(scheme.size());
    if (auto q = rest.find('?'); q != std::string_view::npos) {
        const auto query = rest.substr(q + 1);
        rest = rest.substr(0, q);
        if (query.substr(0, 7) != "prefix=" || query.size() == 7)
            throw std::invalid_argument(fmt::format("store URL '{}': the only option is prefix=NAME", url));
        c.prefix = std::string(query.substr(7));
    }
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        const auto db = parse_u64(rest.substr(slash + 1));
        if (!db || *db > 65535) throw std::invalid_argument(fmt::format("store URL '{}': bad database number", url));
        c.db = unsigned(*db);
        rest = rest.substr(0, slash);
    }
    std::string_view host = rest, port;
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) throw std::invalid_argument(fmt::format("store URL '{}': no ']'", url));
        host = rest.substr(1, close - 1);
        if (rest.size() > close + 1 && rest[close + 1] == ':') port = rest.substr(close + 2);
    } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
    }
    if (host.empty()) throw std::invalid_argument(fmt::format("store URL '{}' names no host", url));
    c.host = std::string(host);
    if (!port.empty()) {
        const auto p = parse_u64(port);
        if (!p || *p == 0 || *p > 65535) throw std::invalid_argument(fmt::format("store URL '{}': bad port", url));
        c.port = std::uint16_t(*p);
    }
    return c;
}

std::string RedisConfig::url() const {
    const bool v6 = host.find(':') != std::string::npos;
    return fmt::format("redis://{}{}{}:{}/{}{}", v6 ? "[" : "", host, v6 ? "]" : "", port, db,
                       prefix == "pvwire" ? "" : "?prefix=" + prefix);
}

struct RedisStore::Impl : std::enable_shared_from_this<Impl> {
    struct Channel {
        Value value;             // null while the first snapshot of it is loading
        std::string type_bytes;  // the stored type form, compared to detect a recreation
        std::string incarnation;
        std::uint64_t version = 0;
        bool loading = false;
        bool stale = false;  // watchers were told the store is unreachable: the next snapshot is news
        std::vector<std::tuple<std::string, std::uint64_t, std::string>> held;  // changes that came while loading
        std::vector<std::pair<std::uint64_t, Watcher>> watchers;
        std::vector<std::pair<std::uint64_t, Done>> acks;  // puts waiting for this version
    };
    struct WatchHandle {
        std::weak_ptr<Impl> impl;
        std::string name;
        std::uint64_t id;
        ~WatchHandle();
    };
    /// What a change or a snapshot hands to the watchers, once `mu` is released.
    struct Notices {
        Value update;
        std::vector<Watcher> watchers;
        std::vector<Done> acks;
        void deliver();
    };

    Impl(RedisConfig c, asio::any_io_executor executor)
        : cfg(std::move(c)), io(asio::make_strand(executor)), retry_timer(io), retry_delay(cfg.retry_min),
          member_id(replica_name(cfg) + "@" + host_name() + "/" + new_incarnation()) {}

    RedisConfig cfg;
    /// Every member below "strand only" is used on this strand alone.
    asio::strand<asio::any_io_executor> io;
    // strand only
    asio::steady_timer retry_timer;
    std::chrono::milliseconds retry_delay;
    std::shared_ptr<RespConnection> cmd, sub;
    std::uint64_t session = 0;  // callbacks of an older session are ignored
    std::string sha_create, sha_write, sha_remove, sha_heartbeat;
    asio::steady_timer heartbeat_timer{io};
    std::string member_id;  // in the replica set: "replica@host/random"
    // shared, under mu
    mutable std::mutex mu;
    mutable std::condition_variable ready_cv;
    bool synchronised = false;
    std::string error = "not connected yet";
    std::map<std::string, Channel, std::less<>> channels;
    std::uint64_t next_id = 1;
    detail::CatalogWatchers catalog;
    std::vector<std::string> live_replicas;  // from the last heartbeat
    std::atomic<std::uint64_t> resyncs{0};

    std::string key(std::string_view name) const { return fmt::format("{}:ch:{}", cfg.prefix, name); }
    std::string set_key() const { return cfg.prefix + ":channels"; }
    std::string updates_channel() const { return fmt::format("{}:{}:updates", cfg.prefix, cfg.db); }
    std::string catalog_channel() const { return fmt::format("{}:{}:catalog", cfg.prefix, cfg.db); }
    std::string replicas_key() const { return cfg.prefix + ":replicas"; }

    // connection life (I/O thread)
    void connect();
    void on_command_connected();
    void load_scripts(std::function<void()> then);
    void subscribe();
    void resynchronise();
    void heartbeat(std::uint64_t of_session);
    void lose(std::uint64_t of_session, const std::string& reason);
    void on_push(const redisReply& r);
    // the copy (I/O thread)
    void load(const std::string& name, std::function<void()> then = nullptr);
    void on_loaded(const std::string& name, const redisReply& r);
    void apply_change(std::string_view name, std::string_view incarnation, std::uint64_t version,
                      std::string_view change);
    void forget(const std::string& name);
    /// Moves the puts waiting for a version `ch` has reached (all of them with `all`) to `n`.
    void complete_acks(Channel& ch, Notices& n, bool all = false);
    // requests (any thread, then the I/O thread)
    void send_write(std::string name, std::vector<std::string> args, Done done);
    void await_version(const std::string& name, std::uint64_t version, Done done);
    bool send(const std::vector<std::string>& args, std::function<void(const RespResult&)> handler);
    std::string unreachable_text() const;
    std::string unreachable_text_locked() const;  // with mu held
};

void RedisStore::Impl::Notices::deliver() {
    {
        detail::ChangeScope change;  // one change: its watchers may share work
        for (auto& w : watchers) w(update);
    }
    for (auto& a : acks) a(Status::ok());
}

RedisStore::Impl::WatchHandle::~WatchHandle() {
    auto s = impl.lock();
    if (!s) return;
    std::lock_guard lock(s->mu);
    auto it = s->channels.find(name);
    if (it != s->channels.end()) std::erase_if(it->second.watchers, [&](const auto& e) { return e.first == id; });
}

std::string RedisStore::Impl::unreachable_text() const {
    std::lock_guard lock(mu);
    return unreachable_text_locked();
}

std::string RedisStore::Impl::unreachable_text_locked() const {
    return fmt::format("store unreachable ({}): {}", cfg.url(), error);
}

bool RedisStore::Impl::send(const std::vector<std::string>& args, std::function<void(const RespResult&)> handler) {
    return cmd && cmd->send(args, std::move(handler));
}

// ---- connection life ------------------------------------------------------------------

void RedisStore::Impl::connect() {
    const auto s = ++session;
    cmd = std::make_shared<RespConnection>(io, cfg.max_pending);
    sub = std::make_shared<RespConnection>(io, 16);
    cmd->on_closed([w = weak_from_this(), s](const std::string& why) {
        if (auto self = w.lock()) self->lose(s, why);
    });
    sub->on_closed([w = weak_from_this(), s](const std::string& why) {
        if (auto self = w.lock()) self->lose(s, "subscriber connection: " + why);
    });
    cmd->connect(cfg.host, cfg.port, cfg.connect_timeout, [w = weak_from_this(), s](const std::string& err) {
        auto self = w.lock();
        if (!self || s != self->session) return;
        if (!err.empty()) return self->lose(s, err);
        self->on_command_connected();
    });
}

void RedisStore::Impl::on_command_connected() {
    if (cfg.db != 0) {
        send({"SELECT", std::to_string(cfg.db)}, [w = weak_from_this(), s = session](const RespResult& r) {
            if (auto self = w.lock(); self && !r.error_text().empty())
                self->lose(s, fmt::format("SELECT {} failed: {}", self->cfg.db, r.error_text()));
        });
    }
    load_scripts([this] {
        sub->connect(cfg.host, cfg.port, cfg.connect_timeout, [w = weak_from_this(), s = session](const std::string& err) {
            auto self = w.lock();
            if (!self || s != self->session) return;
            if (!err.empty()) return self->lose(s, "subscriber connection: " + err);
            self->subscribe();
        });
    });
}

void RedisStore::Impl::load_scripts(std::function<void()> then) {
    struct Script {
        std::string text;
        std::string* sha;
    };
    const std::array<Script, 4> scripts{{{std::string(create_script), &sha_create},
                                         {detail::write_script(), &sha_write},
                                         {std::string(remove_script), &sha_remove},
                                         {std::string(heartbeat_script), &sha_heartbeat}}};
    auto left = std::make_shared<int>(int(scripts.size()));
    for (const auto& sc : scripts) {
        send({"SCRIPT", "LOAD", sc.text},
             [w = weak_from_this(), s = session, sha = sc.sha, left, then](const RespResult& r) {
                 auto self = w.lock();
                 if (!self || s != self->session || r.failed()) return;
                 if (r.reply->type != REDIS_REPLY_STRING)
                     return self->lose(s, fmt::format("SCRIPT LOAD failed: {}", r.error_text()));
                 *sha = std::string(text_of(*r.reply));
                 if (--*left == 0) then();
             });
    }
}

void RedisStore::Impl::subscribe() {
    sub->on_push([w = weak_from_this()](const redisReply& r) {
        if (auto self = w.lock()) self->on_push(r);
    });
    const std::vector<std::string> args{"SUBSCRIBE", updates_channel(), catalog_channel()};
    // SUBSCRIBE answers once per channel; the first answer comes after Redis registered both,
    // so a snapshot taken now misses no change (later changes arrive as messages)
    sub->send(args, [w = weak_from_this(), s = session](const RespResult& r) {
        auto self = w.lock();
        if (!self || s != self->session || r.failed()) return;
        if (!r.error_text().empty()) return self->lose(s, fmt::format("SUBSCRIBE failed: {}", r.error_text()));
        self->resynchronise();
    });
}

void RedisStore::Impl::resynchronise() {
    send({"SMEMBERS", set_key()}, [w = weak_from_this(), s = session](const RespResult& r) {
        auto self = w.lock();
        if (!self || s != self->session || r.failed()) return;
        if (r.reply->type != REDIS_REPLY_ARRAY) return self->lose(s, fmt::format("SMEMBERS failed: {}", r.error_text()));
        std::vector<std::string> present;
        for (std::size_t i = 0; i < r.reply->elements; ++i) present.emplace_back(text_of(*r.reply->element[i]));
        std::vector<std::string> gone;
        {
            std::lock_guard lock(self->mu);
            for (const auto& [name, ch] : self->channels)
                if (std::find(present.begin(), present.end(), name) == present.end()) gone.push_back(name);
        }
        for (const auto& name : gone) self->forget(name);
        auto left = std::make_shared<std::size_t>(present.size() + 1);
        auto finished = [self, s, left] {
            if (--*left != 0 || s != self->session) return;
            std::size_t count = 0;
            {
                std::lock_guard lock(self->mu);
                self->synchronised = true;
                self->error.clear();
                count = self->channels.size();
            }
            self->retry_delay = self->cfg.retry_min;
            self->heartbeat(s);
            self->ready_cv.notify_all();
            if (self->resyncs == 0) log::store().info("store {}: connected, {} channels", self->cfg.url(), count);
            else log::store().warn("store {}: connected again, {} channels resynchronised", self->cfg.url(), count);
        };
        for (const auto& name : present) self->load(name, finished);
        finished();
    });
}

void RedisStore::Impl::heartbeat(std::uint64_t of_session) {
    if (of_session != session) return;
    send({"EVALSHA", sha_heartbeat, "1", replicas_key(), member_id, std::to_string(heartbeat_ttl.count())},
         [w = weak_from_this(), of_session](const RespResult& r) {
             auto self = w.lock();
             if (!self || of_session != self->session || r.failed() || r.reply->type != REDIS_REPLY_ARRAY) return;
             std::vector<std::string> live;
             for (std::size_t i = 0; i < r.reply->elements; ++i) live.emplace_back(text_of(*r.reply->element[i]));
             std::lock_guard lock(self->mu);
             self->live_replicas = std::move(live);
         });
    heartbeat_timer.expires_after(heartbeat_period);
    heartbeat_timer.async_wait([w = weak_from_this(), of_session](boost::system::error_code ec) {
        if (auto self = w.lock(); self && !ec) self->heartbeat(of_session);
    });
}

void RedisStore::Impl::lose(std::uint64_t of_session, const std::string& reason) {
    if (of_session != session) return;
    ++resyncs;  // the copy is resynchronised from a snapshot when the connection is back
    ++session;  // every callback of the lost session is now ignored
    if (cmd) cmd->close(reason);
    if (sub) sub->close(reason);
    std::vector<Notices> notices;
    {
        std::lock_guard lock(mu);
        if (synchronised || error != reason) log::store().warn("store {}: {}; retrying in {} ms", cfg.url(), reason, retry_delay.count());
        synchronised = false;
        error = reason;
        live_replicas.clear();  // every replica answers for itself until the set is known again
        std::erase_if(channels, [](const auto& e) { return !e.second.value; });  // half-loaded
        for (auto& [name, ch] : channels) {
            Notices n;
            complete_acks(ch, n, true);  // Redis applied them: they stand, whatever comes next
            ch.loading = false;
            ch.held.clear();
            const bool told = ch.stale;  // once per outage, not at every reconnection attempt
            ch.stale = true;
            if (!told && !ch.watchers.empty()) {
                n.update = ch.value.clone();
                n.update.unmark();
                mark_unreachable(n.update);
                for (auto& [id, w] : ch.watchers) n.watchers.push_back(w);
            }
            notices.push_back(std::move(n));
        }
    }
    for (auto& n : notices) n.deliver();
    retry_timer.expires_after(retry_delay);
    retry_delay = std::min(retry_delay * 2, cfg.retry_max);
    retry_timer.async_wait([w = weak_from_this()](boost::system::error_code ec) {
        if (auto self = w.lock(); self && !ec) self->connect();
    });
}

// ---- the copy ---------------------------------------------------------------------------

void RedisStore::Impl::on_push(const redisReply& r) {
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 3 || text_of(*r.element[0]) != "message") return;
    const auto channel = text_of(*r.element[1]);
    const auto payload = text_of(*r.element[2]);
    if (channel == catalog_channel()) {
        if (payload.size() < 2) return;
        const std::string name(payload.substr(1));
        return payload[0] == '+' ? load(name) : forget(name);
    }
    // name NUL incarnation NUL version NUL change
    const auto a = payload.find('\0');
    const auto b = a == std::string_view::npos ? a : payload.find('\0', a + 1);
    const auto c = b == std::string_view::npos ? b : payload.find('\0', b + 1);
    const auto version = c == std::string_view::npos ? std::nullopt : parse_u64(payload.substr(b + 1, c - b - 1));
    if (!version) {
        log::store().error("store {}: ignored a malformed change message ({} bytes) on {}", cfg.url(), payload.size(), channel);
        return;
    }
    apply_change(payload.substr(0, a), payload.substr(a + 1, b - a - 1), *version, payload.substr(c + 1));
}

void RedisStore::Impl::apply_change(std::string_view name, std::string_view incarnation, std::uint64_t version,
                                    std::string_view change) {
    Notices n;
    {
        std::lock_guard lock(mu);
        auto it = channels.find(name);
        if (it == channels.end() || it->second.loading) {
            if (it != channels.end() && it->second.held.size() < 1024)
                it->second.held.emplace_back(std::string(incarnation), version, std::string(change));
            else if (it == channels.end())
                asio::post(io, [self = shared_from_this(), nm = std::string(name)] { self->load(nm); });
            return;
        }
        Channel& ch = it->second;
        if (incarnation != ch.incarnation || version > ch.version + 1) {
            ++resyncs;
            asio::post(io, [self = shared_from_this(), nm = std::string(name)] { self->load(nm); });
            return;
        }
        if (version <= ch.version) return;  // the snapshot had it already
        BitSet changed;
        try {
            pvwire::msgpack_codec::decode_partial(bytes_of(change), ch.value, changed);
        } catch (const std::exception& e) {
            log::store().error("store {}: change {} of '{}' is not valid: {}; reloading it", cfg.url(), version, name, e.what());
            asio::post(io, [self = shared_from_this(), nm = std::string(name)] { self->load(nm); });
            return;
        }
        ch.version = version;
        if (!ch.watchers.empty()) {
            n.update = ch.value.clone();
            n.update.unmark();
            n.update.marks() = changed;
            for (auto& [id, w] : ch.watchers) n.watchers.push_back(w);
        }
        ch.value.unmark();
        complete_acks(ch, n);
    }
    n.deliver();
}

void RedisStore::Impl::complete_acks(Channel& ch, Notices& n, bool all) {
    auto keep = ch.acks.begin();
    for (auto& [version, done] : ch.acks) {
        if (all || version <= ch.version) n.acks.push_back(std::move(done));
        else *keep++ = {version, std::move(done)};
    }
    ch.acks.erase(keep, ch.acks.end());
}

void RedisStore::Impl::load(const std::string& name, std::function<void()> then) {
    {
        std::lock_guard lock(mu);
        auto& ch = channels[name];
        if (ch.loading && !then) return;  // one reload at a time suffices
        ch.loading = true;
    }
    const bool sent = send({"HGETALL", key(name)}, [w = weak_from_this(), s = session, name, then](const RespResult& r) {
        auto self = w.lock();
        if (!self || s != self->session || r.failed()) return;
        self->on_loaded(name, *r.reply);
        if (then) then();
    });
    if (!sent) {
        std::lock_guard lock(mu);
        if (auto it = channels.find(name); it != channels.end()) it->second.loading = false;
    }
}

namespace {

/// A channel's hash as HGETALL returned it, decoded; throws with the reason when the stored
/// data is not what pvwire writes (someone else wrote there).
struct StoredChannel {
    std::string type_bytes, incarnation;
    std::uint64_t version = 0;
    Value value;

    static StoredChannel decode(const redisReply& r, const TypePtr& known_type, std::string_view known_type_bytes) {
        StoredChannel c;
        std::vector<std::string_view> leaves;
        for (std::size_t i = 0; i + 1 < r.elements; i += 2) {
            const auto field = text_of(*r.element[i]), value = text_of(*r.element[i + 1]);
            if (field == "#type") c.type_bytes = std::string(value);
            else if (field == "#inc") c.incarnation = std::string(value);
            else if (field == "#ver") {
                const auto v = parse_u64(value);
                if (!v) throw std::runtime_error(fmt::format("its version '{}' is not a number", value));
                c.version = *v;
            } else leaves.push_back(value);
        }
        if (c.type_bytes.empty() || c.incarnation.empty()) throw std::runtime_error("it has no #type or #inc field");
        TypePtr type = c.type_bytes == known_type_bytes && known_type ? known_type
                                                                       : pvwire::msgpack_codec::decode_type(bytes_of(c.type_bytes));
        if (type->code() != TypeCode::Struct) throw std::runtime_error("its type is not a structure");
        c.value = Value(type);
        BitSet ignored;
        for (auto leaf : leaves) pvwire::msgpack_codec::decode_partial(bytes_of(leaf), c.value, ignored);
        c.value.unmark();
        return c;
    }
};

}  // namespace

void RedisStore::Impl::on_loaded(const std::string& name, const redisReply& r) {
    if (r.type != REDIS_REPLY_ARRAY || r.elements == 0) return forget(name);  // deleted meanwhile
    TypePtr known;
    std::string known_bytes;
    {
        std::lock_guard lock(mu);
        if (auto it = channels.find(name); it != channels.end() && it->second.value) {
            known = it->second.value.type_ptr();
            known_bytes = it->second.type_bytes;
        }
    }
    StoredChannel stored;
    try {
        stored = StoredChannel::decode(r, known, known_bytes);
    } catch (const std::exception& e) {
        log::store().error("store {}: channel '{}' holds data pvwire cannot read ({}); not served", cfg.url(), name, e.what());
        std::lock_guard lock(mu);
        if (auto it = channels.find(name); it != channels.end() && !it->second.value) channels.erase(it);
        else if (it != channels.end()) it->second.loading = false;
        return;
    }
    Notices n;
    bool fresh = false;
    std::vector<std::tuple<std::string, std::uint64_t, std::string>> held;
    {
        std::lock_guard lock(mu);
        Channel& ch = channels[name];
        fresh = !ch.value;
        const bool newer = fresh || stored.incarnation != ch.incarnation || stored.version > ch.version;
        const bool news = newer || ch.stale;
        ch.loading = false;
        ch.stale = false;
        held = std::move(ch.held);
        ch.held.clear();
        if (newer) {
            ch.value = stored.value;
            ch.type_bytes = std::move(stored.type_bytes);
            ch.incarnation = std::move(stored.incarnation);
            ch.version = stored.version;
        }
        if (news && !fresh && !ch.watchers.empty()) {
            n.update = ch.value.clone();
            n.update.mark_all();
            for (auto& [id, w] : ch.watchers) n.watchers.push_back(w);
        }
        complete_acks(ch, n);
    }
    n.deliver();
    if (fresh) catalog.tell(name, true);
    for (auto& [inc, version, change] : held) apply_change(name, inc, version, change);
}

void RedisStore::Impl::forget(const std::string& name) {
    Notices n;
    bool was_served = false;
    {
        std::lock_guard lock(mu);
        auto it = channels.find(name);
        if (it == channels.end()) return;
        was_served = bool(it->second.value);
        complete_acks(it->second, n, true);
        channels.erase(it);
    }
    n.deliver();
    if (was_served) catalog.tell(name, false);
}

// ---- requests ---------------------------------------------------------------------------

void RedisStore::Impl::send_write(std::string name, std::vector<std::string> args, Done done) {
    args.insert(args.begin(), {"EVALSHA", sha_write, "2", key(name), updates_channel()});
    auto on_reply = [w = weak_from_this(), name, done](const RespResult& r) mutable {
        auto self = w.lock();
        if (!self) return done(Status::failure("the store was closed"));
        if (r.failed())
            return done(Status::failure(fmt::format("the store connection was lost before the write was confirmed "
                                                    "(it may have been applied): {}", r.error)));
        if (r.reply->type != REDIS_REPLY_INTEGER)
            return done(Status::failure(fmt::format("the store refused the write: {}", r.error_text())));
        self->await_version(name, std::uint64_t(r.reply->integer), std::move(done));
    };
    if (!send(args, on_reply)) {
        if (cmd && cmd->open()) return done(Status::failure(fmt::format("store busy: {} requests outstanding", cmd->pending())));
        done(Status::failure(unreachable_text()));
    }
}

void RedisStore::Impl::await_version(const std::string& name, std::uint64_t version, Done done) {
    {
        std::lock_guard lock(mu);
        auto it = channels.find(name);
        if (synchronised && it != channels.end() && it->second.version < version) {
            it->second.acks.emplace_back(version, std::move(done));
            return;
        }
    }
    done(Status::ok());
}

/// The thread and io_context of a RedisStore made without an executor.
struct RedisStore::OwnThread {
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
    std::thread thread;
};

RedisStore::RedisStore(RedisConfig config) : own_(std::make_unique<OwnThread>()) {
    impl_ = std::make_shared<Impl>(std::move(config), own_->io.get_executor());
    asio::post(impl_->io, [impl = impl_] { impl->connect(); });
    own_->thread = std::thread([own = own_.get()] { own->io.run(); });
}

RedisStore::RedisStore(RedisConfig config, asio::any_io_executor executor)
    : impl_(std::make_shared<Impl>(std::move(config), std::move(executor))) {
    asio::post(impl_->io, [impl = impl_] { impl->connect(); });
}

RedisStore::~RedisStore() {
    // on the strand: leave the replica set (the others would otherwise wait out its time to
    // live), then close; the handlers still queued find the Impl gone
    asio::post(impl_->io, [impl = impl_] {
        ++impl->session;
        impl->retry_timer.cancel();
        impl->heartbeat_timer.cancel();
        auto close = [impl] {
            impl->retry_timer.cancel();
            if (impl->cmd) impl->cmd->close("the store was closed");
            if (impl->sub) impl->sub->close("the store was closed");
        };
        if (!impl->send({"ZREM", impl->replicas_key(), impl->member_id}, [close](const RespResult&) { close(); }))
            return close();
        impl->retry_timer.expires_after(std::chrono::milliseconds(500));  // Redis may not answer
        impl->retry_timer.async_wait([close](boost::system::error_code) { close(); });
    });
    impl_.reset();
    if (own_) {
        own_->work.reset();
        own_->thread.join();
    }
}

bool RedisStore::wait_ready(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->mu);
    return impl_->ready_cv.wait_for(lock, timeout, [&] { return impl_->synchronised; });
}

bool RedisStore::reachable() const {
    std::lock_guard lock(impl_->mu);
    return impl_->synchronised;
}

std::string RedisStore::last_error() const {
    std::lock_guard lock(impl_->mu);
    return impl_->synchronised ? std::string() : impl_->error;
}

std::uint64_t RedisStore::resync_count() const { return impl_->resyncs.load(); }

bool RedisStore::owns(std::string_view name, bool among_all_hosts) const {
    std::lock_guard lock(impl_->mu);
    const std::string_view me = impl_->member_id;
    // "replica@host/random" -> "host"
    const auto host_of = [](std::string_view member) {
        member = member.substr(0, member.rfind('/'));
        return member.substr(member.rfind('@') + 1);
    };
    // rendezvous hashing: the member with the highest hash of (member, name) owns it, so a
    // replica joining or leaving moves only the names it wins or held
    std::optional<std::string_view> best;
    std::uint64_t best_hash = 0;
    for (std::string_view m : impl_->live_replicas) {
        if (!among_all_hosts && host_of(m) != host_of(me)) continue;
        if (const auto h = stable_hash(m, name); !best || h > best_hash) {
            best = m;
            best_hash = h;
        }
    }
    return !best || *best == me;  // no set known yet: answer
}

std::vector<std::string> RedisStore::replicas() const {
    std::lock_guard lock(impl_->mu);
    return impl_->live_replicas;
}

const RedisConfig& RedisStore::config() const noexcept { return impl_->cfg; }

void RedisStore::create(const std::string& name, const Value& initial, CreateDone done) {
    if (name.empty() || std::any_of(name.begin(), name.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; }))
        return done(Status::failure(fmt::format("'{}' is not a channel name (empty, blank or control characters)", name)), false);
    if (!initial || initial.type().code() != TypeCode::Struct)
        return done(Status::failure(fmt::format("channel '{}' needs a structure as its initial value", name)), false);
    BitSet all{0};
    const auto leaves = leaves_of(initial.type(), all);
    if (leaves.size() > max_leaves)
        return done(Status::failure(fmt::format("channel '{}' has {} leaf fields; a RedisStore holds at most {}", name,
                                                leaves.size(), max_leaves)), false);
    std::vector<std::string> args{name, to_string(pvwire::msgpack_codec::encode_type(initial.type())), new_incarnation()};
    for (auto& f : leaf_fields(initial, leaves)) args.push_back(std::move(f));
    asio::post(impl_->io, [impl = impl_, name, args = std::move(args), done = std::move(done)]() mutable {
        args.insert(args.begin(), {"EVALSHA", impl->sha_create, "3", impl->key(name), impl->set_key(), impl->catalog_channel()});
        auto on_reply = [w = std::weak_ptr<Impl>(impl), name, done](const RespResult& r) mutable {
            auto self = w.lock();
            if (!self || r.failed()) return done(Status::failure(fmt::format("creating '{}' was not confirmed: {}", name, r.error)), false);
            if (r.reply->type != REDIS_REPLY_INTEGER) return done(Status::failure(std::string(r.error_text())), false);
            const bool created = r.reply->integer == 1;
            self->load(name, [done, created]() mutable { done(Status::ok(), created); });
        };
        if (!impl->send(args, on_reply)) done(Status::failure(impl->unreachable_text()), false);
    });
}

Value RedisStore::read(std::string_view name) const {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->channels.find(name);
    if (it == impl_->channels.end() || !it->second.value) return {};
    Value v = it->second.value.clone();
    if (!impl_->synchronised) {
        mark_unreachable(v);
        v.unmark();
    }
    return v;
}

void RedisStore::write(std::string_view name, const Value& delta, Done done) {
    std::string incarnation;
    {
        std::lock_guard lock(impl_->mu);
        auto it = impl_->channels.find(name);
        if (it == impl_->channels.end() || !it->second.value)
            return done(Status::failure(fmt::format("no channel '{}' in the store", name)));
        if (!delta || !(delta.type() == it->second.value.type()))
            return done(Status::failure(fmt::format("the value's type is not the type of '{}'", name)));
        if (!impl_->synchronised) return done(Status::failure(impl_->unreachable_text_locked()));
        incarnation = it->second.incarnation;
    }
    // encoded on the caller's thread: the I/O thread only sends
    const auto leaves = leaves_of(delta.type(), delta.marks());
    if (leaves.empty()) return done(Status::ok());
    BitSet leaf_bits;
    for (auto off : leaves) leaf_bits.set(off);
    std::vector<std::byte> change;
    pvwire::msgpack_codec::encode_partial(delta, leaf_bits, change);
    std::vector<std::string> args{std::string(name), std::move(incarnation), to_string(change)};
    for (auto& f : leaf_fields(delta, leaves)) args.push_back(std::move(f));
    asio::post(impl_->io, [impl = impl_, name = std::string(name), args = std::move(args), done = std::move(done)]() mutable {
        impl->send_write(std::move(name), std::move(args), std::move(done));
    });
}

std::shared_ptr<void> RedisStore::watch(std::string_view name, Watcher watcher) {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->channels.find(name);
    if (it == impl_->channels.end() || !it->second.value) return nullptr;
    const auto id = impl_->next_id++;
    it->second.watchers.emplace_back(id, std::move(watcher));
    auto h = std::make_shared<Impl::WatchHandle>();
    h->impl = impl_;
    h->name = std::string(name);
    h->id = id;
    return h;
}

void RedisStore::remove(std::string_view name, Done done) {
    asio::post(impl_->io, [impl = impl_, name = std::string(name), done = std::move(done)]() mutable {
        std::vector<std::string> args{"EVALSHA", impl->sha_remove, "3", impl->key(name), impl->set_key(),
                                      impl->catalog_channel(), name};
        auto on_reply = [w = std::weak_ptr<Impl>(impl), name, done](const RespResult& r) mutable {
            auto self = w.lock();
            if (!self || r.failed()) return done(Status::failure(fmt::format("removing '{}' was not confirmed: {}", name, r.error)));
            if (r.reply->type != REDIS_REPLY_INTEGER) return done(Status::failure(std::string(r.error_text())));
            if (r.reply->integer == 0) return done(Status::failure(fmt::format("no channel '{}' in the store", name)));
            self->forget(name);
            done(Status::ok());
        };
        if (!impl->send(args, on_reply)) done(Status::failure(impl->unreachable_text()));
    });
}

bool RedisStore::contains(std::string_view name) const {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->channels.find(name);
    return it != impl_->channels.end() && it->second.value;
}

std::vector<std::string> RedisStore::names() const {
    std::lock_guard lock(impl_->mu);
    std::vector<std::string> out;
    for (const auto& [name, ch] : impl_->channels)
        if (ch.value) out.push_back(name);
    return out;
}

std::shared_ptr<void> RedisStore::watch_catalog(CatalogWatcher watcher) { return impl_->catalog.add(std::move(watcher)); }

std::shared_ptr<Store> open_store(std::string_view url) {
    if (url.empty() || url == "memory:") return std::make_shared<MemoryStore>();
    if (url.substr(0, 8) == "redis://") return std::make_shared<RedisStore>(RedisConfig::from_url(url));
    throw std::invalid_argument(fmt::format("store URL '{}' is neither memory: nor redis://HOST[:PORT][/DB]", url));
}

}  // namespace pvwire::store
