// The client's operations: each sends its INIT once the channel is connected, then its
// execution, and completes once (result, error, timeout or disconnect).
#include "context_impl.hpp"

#include <pvwire/protocol/pv_request.hpp>

namespace pvwire::client {

namespace {
struct ClientCategory final : std::error_category {
    const char* name() const noexcept override { return "pvwire.client"; }
    std::string message(int e) const override {
        switch (errc(e)) {
        case errc::timeout: return "timeout";
        case errc::disconnected: return "disconnected";
        case errc::remote_error: return "error reported by the server";
        case errc::bad_request: return "bad pvRequest";
        case errc::bad_address: return "bad server address";
        case errc::bad_value: return "bad value";
        case errc::cancelled: return "cancelled";
        case errc::not_found: return "not found";
        }
        return "client error";
    }
};
}  // namespace

std::string describe(std::error_code ec, const Result& r) {
    const auto& text = r.status.message;
    // the server's text, and a bad address's, are whole sentences of their own
    if ((ec == errc::remote_error || ec == errc::bad_address) && !text.empty()) return text;
    return text.empty() ? ec.message() : ec.message() + " (" + text + ")";
}

const std::error_category& category() noexcept {
    static const ClientCategory c;
    return c;
}

// ---- ClientOp ---------------------------------------------------------------------------------------

ClientOp::ClientOp(std::shared_ptr<ChannelImpl> ch, std::uint8_t command, OpOptions options, Context::Completion done)
    : ch_(std::move(ch)), command_(command), options_(std::move(options)), done_(std::move(done)),
      timer_(ch_->context()->strand_) {
    std::string err;
    pv_request_ = protocol::parse_pv_request(options_.request, &err);
    if (!err.empty()) messages_.push_back(err);
}

void ClientOp::begin() {
    if (finished_) return;
    if (!ch_->address_error().empty()) {
        finish(errc::bad_address, Result{{}, {}, wire::Status::error(ch_->address_error()), 0});
        return;
    }
    if (!pv_request_) {
        finish(errc::bad_request, Result{{}, {}, wire::Status::error(messages_.empty() ? "bad pvRequest" : messages_[0]), 0});
        return;
    }
    arm_timer();
    ch_->when_connected([self = shared_from_this()] {
        if (self->finished_) return;
        self->link_ = self->ch_->current_link();
        auto ctx = self->ch_->context();
        if (!self->link_ || !ctx) return self->finish(errc::disconnected);
        self->ioid_ = ctx->next_ioid_++;
        self->link_->attach(self);
        self->send_init();
    });
}

void ClientOp::arm_timer() {
    if (options_.timeout.count() <= 0) {
        deadline_ = Clock::time_point::max();
        return;
    }
    deadline_ = Clock::now() + options_.timeout;
    if (!timer_waiting_) wait_for_deadline();
}

void ClientOp::wait_for_deadline() {
    timer_waiting_ = true;
    timer_.expires_at(deadline_);
    timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        auto self = weak.lock();
        if (!self) return;
        self->timer_waiting_ = false;
        if (ec || self->finished_ || self->deadline_ == Clock::time_point::max()) return;
        if (Clock::now() < self->deadline_) return self->wait_for_deadline();  // a later execution
        // say whether a server was reached: "not connected" usually means no server has the PV
        Result r;
        const std::string failure = self->ch_ ? self->ch_->connect_failure() : std::string();
        r.status = wire::Status::error(self->link_ ? "connected, no reply in time"
                                       : failure.empty() ? "not connected"
                                                         : "not connected: " + failure);
        self->destroy_remote();
        self->finish(errc::timeout, std::move(r));
    });
}

void ClientOp::rearm(OpOptions options, Context::Completion done) {
    finished_ = false;
    options_ = std::move(options);
    done_ = std::move(done);
    messages_.clear();
    arm_timer();
}

void ClientOp::send(wire::Body body) {
    if (!link_) return;
    wire::Message m;
    m.body = std::move(body);
    link_->send(std::move(m));
}

wire::OperationRequest ClientOp::head(std::uint8_t subcmd) const {
    wire::OperationRequest r;
    r.sid = ch_->sid();
    r.ioid = ioid_;
    r.subcmd = subcmd;
    if (subcmd & wire::subcmd::init) r.pv_request = pv_request_;
    return r;
}

void ClientOp::destroy_remote() {
    if (!link_ || !ioid_) return;
    if (link_->validated()) send(wire::DestroyRequest{ch_->sid(), ioid_});
    link_->detach(ioid_);
    ioid_ = 0;
}

void ClientOp::finish(std::error_code ec, Result r) {
    if (finished_) return;
    finished_ = true;  // a pending timer wait finds this and does nothing
    if (r.status.message.empty() && !messages_.empty() && ec) r.status.message = messages_.back();
    auto done = std::move(done_);
    done_ = nullptr;
    if (done) done(ec, std::move(r));
}

void ClientOp::cancel() {
    if (finished_) return;
    if (link_ && ioid_ && link_->validated()) send(wire::CancelRequest{ch_->sid(), ioid_});
    destroy_remote();
    finish(errc::cancelled);
}

bool ClientOp::remote_failed(const wire::Status& st) {
    if (st.success()) return false;
    Result r;
    r.status = st;
    fail(errc::remote_error, std::move(r));
    return true;
}

void ClientOp::succeed(Result r) {
    destroy_remote();
    finish({}, std::move(r));
}

void ClientOp::fail(std::error_code ec, Result r) {
    destroy_remote();
    finish(ec, std::move(r));
}

void ClientOp::on_disconnect() {
    link_.reset();
    ioid_ = 0;
    finish(errc::disconnected);
}

void ClientOp::on_message(const wire::RemoteMessage& m) { messages_.push_back(m.text); }

namespace {

// Builds the value to put on `type` from what the user gave: a Value (matched by field name,
// or meaning the `value` field when it is not a structure) or text per field path.
bool build_put_value(const TypePtr& type, const Value& given, const std::vector<std::pair<std::string, std::string>>& fields,
                     Value& out, std::string& err, const Value& current = Value()) {
    out = Value(type);
    try {
        if (current && current.type() == *type) {
            out = current.clone();  // the fields we do not write keep their content (and
            out.unmark();           // are not sent: only the marks go on the wire)
        }
        if (given) {
            if (given.type() == *type) {
                out = given.clone();
                if (out.marks().empty()) out.mark_all();
            } else if (given.code() == TypeCode::Struct && type->code() == TypeCode::Struct) {
                out.assign(given);
            } else if (auto v = out.field("value")) {
                v.assign(given);
            } else {
                out.assign(given);
            }
        }
        for (const auto& [path, text] : fields) {
            const std::string p = path.empty() ? "value" : path;
            Value f = out.field(p);
            if (!f) {
                err = "the PV has no field '" + p + "'";
                return false;
            }
            if (type_code::is_array(f.code()) && type_code::is_scalar(type_code::element_of(f.code()))) {
                // "[1, 2, 3]" or "1,2,3" or "1 2 3"
                std::string t = text;
                if (!t.empty() && t.front() == '[') t.erase(0, 1);
                if (!t.empty() && t.back() == ']') t.pop_back();
                std::vector<std::string> items;
                std::string cur;
                bool quoted = false;
                for (char c : t) {
                    if (c == '"') {
                        quoted = !quoted;
                        continue;
                    }
                    if (!quoted && (c == ',' || c == ' ')) {
                        if (!cur.empty()) items.push_back(cur);
                        cur.clear();
                        continue;
                    }
                    cur += c;
                }
                if (!cur.empty()) items.push_back(cur);
                f.set(items);
            } else {
                f.set(text);
            }
        }
    } catch (const std::exception& e) {
        err = e.what();
        return false;
    }
    return true;
}

// ---- GET ----------------------------------------------------------------------------------------------

class GetOp : public ClientOp {
public:
    using ClientOp::ClientOp;
    void send_init() override {
        send_request<wire::GetRequest>(wire::subcmd::init);
    }
    void on_reply(const wire::Message& m) override {
        const auto* r = std::get_if<wire::GetResponse>(&m.body);
        if (!r) return;
        if (remote_failed(r->status)) return;
        if (r->is_init()) {
            type_ = r->type;
            current_ = type_ ? Value(type_) : Value();
            received_.clear();
            send_request<wire::GetRequest>(wire::subcmd::exec);
            return;
        }
        // A reply carries the fields changed since the previous one on this operation
        // (pvAccessCPP and pvDatabase servers send an empty set when nothing changed): merge
        // it onto what earlier replies gave. The result's marks are every field received.
        if (r->data && current_) {
            const TypeDesc& t = current_.type();
            for (std::size_t b = r->changed.next(0); b != BitSet::npos && b < t.offset_count();) {
                Value dst(current_.store_ptr(), std::uint32_t(b)), src(r->data.store_ptr(), std::uint32_t(b));
                dst.assign(src);
                b = r->changed.next(b + src.type().offset_count());
            }
            received_ |= r->changed;
        }
        Result res;
        res.type = type_;
        res.value = current_ ? current_.clone() : r->data;
        if (current_) {
            res.value.unmark();
            for (std::size_t b = received_.next(0); b != BitSet::npos; b = received_.next(b + 1)) {
                const std::uint32_t end = current_.type().code() == TypeCode::Struct && b < current_.type().offset_count()
                                              ? current_.type().flat()[b].end
                                              : std::uint32_t(b + 1);
                res.value.marks().set_range(b, end);
            }
        }
        res.status = r->status;
        // keep the initialized operation for the next get of this channel and request; past
        // the channel's limit it gets DESTROY_REQUEST (as PVXS does)
        if (!link_ || !ch_->park("get:" + options_.request, shared_from_this())) destroy_remote();
        finish({}, std::move(res));
    }
    void again(OpOptions o, Context::Completion done) override {
        rearm(std::move(o), std::move(done));
        send_request<wire::GetRequest>(wire::subcmd::exec);
    }

private:
    TypePtr type_;
    Value current_;    // the value so far: replies are merged onto it
    BitSet received_;  // the fields any reply has carried
};

// ---- PUT ----------------------------------------------------------------------------------------------

class PutOp : public ClientOp {
public:
    PutOp(std::shared_ptr<ChannelImpl> ch, Value v, std::vector<std::pair<std::string, std::string>> fields, OpOptions o,
          Context::Completion done)
        : ClientOp(std::move(ch), 0x0B, std::move(o), std::move(done)), given_(std::move(v)), fields_(std::move(fields)) {}
    void send_init() override {
        send_request<wire::PutRequest>(wire::subcmd::init);
    }
    void on_reply(const wire::Message& m) override {
        const auto* r = std::get_if<wire::PutResponse>(&m.body);
        if (!r) return;
        if (remote_failed(r->status)) return;
        if (r->is_init()) {
            type_ = r->type;
            if (!fields_.empty()) {
                // fields given as text may need the current value (enum choices): fetch it
                // first, as pvxput does
                send_request<wire::PutRequest>(wire::subcmd::get);
                return;
            }
            return write(Value());
        }
        if (r->subcmd & wire::subcmd::get) return write(r->data);
        Result res;
        res.status = r->status;
        // keep the initialized operation for the next put of this channel and request
        if (!link_ || !ch_->park("put:" + options_.request, shared_from_this())) destroy_remote();
        finish({}, std::move(res));
    }
    void again_put(Value v, std::vector<std::pair<std::string, std::string>> fields, OpOptions o,
                   Context::Completion done) override {
        given_ = std::move(v);
        fields_ = std::move(fields);
        rearm(std::move(o), std::move(done));
        if (!fields_.empty()) {  // the current value first, as after INIT
            send_request<wire::PutRequest>(wire::subcmd::get);
            return;
        }
        write(Value());
    }

private:
    void write(const Value& current) {
        Value v;
        std::string err;
        if (!build_put_value(type_, given_, fields_, v, err, current)) {
            Result res;
            res.status = wire::Status::error(err);
            destroy_remote();
            return finish(errc::bad_value, std::move(res));
        }
        wire::PutRequest p;
        static_cast<wire::OperationRequest&>(p) = head(wire::subcmd::exec);
        p.changed = v.marks();
        p.data = v;
        send(std::move(p));
    }

    TypePtr type_;
    Value given_;
    std::vector<std::pair<std::string, std::string>> fields_;
};

// ---- PUT_GET ------------------------------------------------------------------------------------------

class PutGetOp : public ClientOp {
public:
    PutGetOp(std::shared_ptr<ChannelImpl> ch, Value v, OpOptions o, Context::Completion done)
        : ClientOp(std::move(ch), 0x0C, with_default_request(std::move(o)), std::move(done)), given_(std::move(v)) {}
    // An empty request names both halves: pvAccessCPP servers look for putField and getField
    // and would otherwise select nothing.
    static OpOptions with_default_request(OpOptions o) {
        if (o.request.empty()) o.request = "putField()getField()";
        return o;
    }
    void send_init() override {
        send_request<wire::PutGetRequest>(wire::subcmd::init);
    }
    void on_reply(const wire::Message& m) override {
        const auto* r = std::get_if<wire::PutGetResponse>(&m.body);
        if (!r) return;
        if (remote_failed(r->status)) return;
        if (r->is_init()) {
            Value v;
            std::string err;
            if (!build_put_value(r->put_type, given_, {}, v, err)) {
                Result res;
                res.status = wire::Status::error(err);
                return fail(errc::bad_value, std::move(res));
            }
            wire::PutGetRequest p;
            static_cast<wire::OperationRequest&>(p) = head(wire::subcmd::exec);
            p.changed = v.marks();
            p.data = v;
            send(std::move(p));
            return;
        }
        Result res;
        res.value = r->data;
        res.status = r->status;
        succeed(std::move(res));
    }

private:
    Value given_;
};

// ---- RPC ----------------------------------------------------------------------------------------------

class RpcOp : public ClientOp {
public:
    RpcOp(std::shared_ptr<ChannelImpl> ch, Value arg, OpOptions o, Context::Completion done)
        : ClientOp(std::move(ch), 0x14, std::move(o), std::move(done)), arg_(std::move(arg)) {}
    void send_init() override {
        send_request<wire::RpcRequest>(wire::subcmd::init);
    }
    void on_reply(const wire::Message& m) override {
        const auto* r = std::get_if<wire::RpcResponse>(&m.body);
        if (!r) return;
        if (remote_failed(r->status)) return;
        if (r->is_init()) {
            wire::RpcRequest e;
            static_cast<wire::OperationRequest&>(e) = head(wire::subcmd::exec);
            e.argument = arg_;
            send(std::move(e));
            return;
        }
        Result res;
        res.value = r->result;
        res.type = r->result ? r->result.type_ptr() : nullptr;
        res.status = r->status;
        succeed(std::move(res));
    }

private:
    Value arg_;
};

// ---- GET_FIELD ----------------------------------------------------------------------------------------

class InfoOp : public ClientOp {
public:
    InfoOp(std::shared_ptr<ChannelImpl> ch, std::string sub, OpOptions o, Context::Completion done)
        : ClientOp(std::move(ch), 0x11, std::move(o), std::move(done)), sub_(std::move(sub)) {}
    void send_init() override { send(wire::GetFieldRequest{ch_->sid(), ioid_, sub_}); }
    void on_reply(const wire::Message& m) override {
        const auto* r = std::get_if<wire::GetFieldResponse>(&m.body);
        if (!r) return;
        link_->detach(ioid_);  // one-shot: no DESTROY_REQUEST
        ioid_ = 0;
        Result res;
        res.status = r->status;
        res.type = r->type;
        if (!r->status.success()) return finish(errc::remote_error, std::move(res));
        finish({}, std::move(res));
    }

private:
    std::string sub_;
};

// ---- PROCESS ------------------------------------------------------------------------------------------

class ProcessOp : public ClientOp {
public:
    using ClientOp::ClientOp;
    void send_init() override {
        send_request<wire::ProcessRequest>(wire::subcmd::init);
    }
    void on_reply(const wire::Message& m) override {
        const auto* r = std::get_if<wire::ProcessResponse>(&m.body);
        if (!r) return;
        if (remote_failed(r->status)) return;
        if (r->is_init()) {
            send_request<wire::ProcessRequest>(wire::subcmd::exec);
            return;
        }
        Result res;
        res.status = r->status;
        succeed(std::move(res));
    }
};

// ---- ARRAY --------------------------------------------------------------------------------------------

class ArrayOp : public ClientOp {
public:
    ArrayOp(std::shared_ptr<ChannelImpl> ch, Context::ArrayAction a, OpOptions o, Context::Completion done)
        : ClientOp(std::move(ch), 0x0E, std::move(o), std::move(done)), action_(std::move(a)) {}
    void send_init() override {
        send_request<wire::ArrayRequest>(wire::subcmd::init);
    }
    void on_reply(const wire::Message& m) override {
        const auto* r = std::get_if<wire::ArrayResponse>(&m.body);
        if (!r) return;
        if (remote_failed(r->status)) return;
        if (r->is_init()) {
            type_ = r->type;
            wire::ArrayRequest e;
            using K = Context::ArrayAction::Kind;
            std::uint8_t sub = 0;
            switch (action_.kind) {
            case K::Get: sub = wire::subcmd::get; break;
            case K::Put: sub = 0; break;
            case K::SetLength: sub = wire::subcmd::get_put; break;
            case K::GetLength: sub = wire::subcmd::process; break;
            }
            static_cast<wire::OperationRequest&>(e) = head(sub);
            e.offset = action_.offset;
            e.count = action_.count;
            e.stride = action_.stride;
            e.length = action_.length;
            if (action_.kind == K::Put) {
                Value v(type_);
                try {
                    v.assign(action_.data);
                } catch (const std::exception& ex) {
                    Result res;
                    res.status = wire::Status::error(ex.what());
                    return fail(errc::bad_value, std::move(res));
                }
                e.data = v;
            }
            send(std::move(e));
            return;
        }
        Result res;
        res.value = r->data;
        res.type = type_;
        res.length = r->length;
        res.status = r->status;
        succeed(std::move(res));
    }

private:
    Context::ArrayAction action_;
    TypePtr type_;
};

// ---- MONITOR -----------------------------------------------------------------------------------------

class MonitorOp : public ClientOp, public Subscription {
public:
    MonitorOp(std::shared_ptr<ChannelImpl> ch, MonitorOptions mo, std::function<void()> notify)
        : ClientOp(ch, 0x0D, OpOptions{mo.request, std::chrono::milliseconds(0)}, nullptr),
          mopts_(std::move(mo)), notify_(std::move(notify)), name_(ch->name()) {
        const auto o = protocol::request_options(pv_request_);
        queue_size_ = std::max<std::uint32_t>(2, o.queue_size.value_or(mopts_.queue_size));
        // the request's record[pipeline=...] wins over the options
        if (auto p = pv_request_ ? pv_request_.field("record._options.pipeline") : Value())
            pipeline_ = o.pipeline;
        else
            pipeline_ = mopts_.pipeline;
        ack_any_ = std::max<std::uint32_t>(1, o.ack_any.value_or(queue_size_ / 2));
        if (pipeline_ && !o.pipeline) add_pipeline_option();
        if (!o.queue_size) add_queue_option();
    }
    ~MonitorOp() override = default;

    // Subscription
    std::vector<MonitorEvent> pop() override {
        std::vector<MonitorEvent> out;
        pop(out);
        return out;
    }
    std::size_t pop(std::vector<MonitorEvent>& out) override {
        out.clear();
        {
            std::lock_guard lock(mu_);
            out.swap(events_);
        }
        std::uint32_t data = 0;
        for (const auto& e : out)
            if (e.kind == MonitorEvent::Kind::Data) ++data;
        if (data && pipeline_) note_consumed(data);
        return out.size();
    }
    std::vector<MonitorEvent> wait(std::chrono::milliseconds timeout) override {
        {
            std::unique_lock lock(mu_);
            cv_.wait_for(lock, timeout, [&] { return !events_.empty(); });
        }
        return pop();
    }
    std::uint64_t updates() const override { return updates_.load(); }
    std::uint64_t squashed() const override { return squashed_.load(); }
    const std::string& name() const override { return name_; }

    void send_init() override {
        wire::MonitorRequest r;
        static_cast<wire::OperationRequest&>(r) = head(std::uint8_t(wire::subcmd::init | (pipeline_ ? wire::subcmd::get_put : 0)));
        r.nfree = queue_size_;
        unacked_ = 0;
        current_ = Value();
        send(std::move(r));
    }
    void on_reply(const wire::Message& m) override {
        const auto* r = std::get_if<wire::MonitorResponse>(&m.body);
        if (!r) return;
        if (r->is_init()) {
            if (!r->status.success()) return push(MonitorEvent{MonitorEvent::Kind::Error, {}, {}, r->status.message});
            type_ = r->type;
            current_ = Value(type_);
            send_request<wire::MonitorRequest>(wire::subcmd::monitor_start);
            push(MonitorEvent{MonitorEvent::Kind::Connected, {}, {}, {}});
            return;
        }
        if (r->is_finish()) {
            link_->detach(ioid_);
            ioid_ = 0;
            return push(MonitorEvent{MonitorEvent::Kind::Finished, {}, {}, r->status.message});
        }
        if (!r->has_data || !r->data) return;
        // The update's decoded value becomes the event's (the decoder gives every update
        // storage nobody else holds: recycled or new): the fields it did not send are
        // filled in from the previous complete value, which is only read. No clone.
        Value v = r->data;
        const TypeDesc* was = current_ ? current_.store()->type.get() : nullptr;
        if (was && (was == v.store()->type.get() || *was == *v.store()->type))
            v.store()->fill_unchanged(*current_.store(), r->changed);
        v.marks() = r->changed;
        current_ = v;
        ++updates_;
        push(MonitorEvent{MonitorEvent::Kind::Data, std::move(v), r->overrun, {}});
    }
    void on_disconnect() override {
        link_.reset();
        ioid_ = 0;
        push(MonitorEvent{MonitorEvent::Kind::Disconnected, {}, {}, {}});
        // kept by the channel: begins again when it reconnects
    }
    void stop() {
        destroy_remote();
        ch_->unkeep(this);
    }

private:
    // Runs act(*this) on the strand, unless an earlier call's handler has not run yet (then
    // that one serves both): at most one posted handler per flag. False without a context.
    template <class Act> bool post_once(std::atomic<bool> MonitorOp::*posted, Act act) {
        if ((this->*posted).exchange(true)) return true;
        auto ctx = ch_->context();
        if (!ctx) {
            (this->*posted).store(false);
            return false;
        }
        asio::post(ctx->strand_, [weak = std::weak_ptr<ClientOp>(shared_from_this()), posted, act] {
            if (auto self = weak.lock()) {
                auto& me = static_cast<MonitorOp&>(*self);
                (me.*posted).store(false);
                act(me);
            }
        });
        return true;
    }
    // Updates the consumer took (or that were squashed): acknowledged on the strand, counts
    // that arrive meanwhile joining the pending acknowledgement.
    void note_consumed(std::uint32_t n) {
        consumed_pending_.fetch_add(n, std::memory_order_relaxed);
        post_once(&MonitorOp::ack_posted_, [](MonitorOp& me) { me.consumed(me.consumed_pending_.exchange(0)); });
    }
    void consumed(std::uint32_t n) {
        unacked_ += n;
        if (unacked_ < ack_any_ || !link_ || !ioid_) return;
        wire::MonitorRequest a;
        static_cast<wire::OperationRequest&>(a) = head(wire::subcmd::get_put);
        a.nfree = unacked_;
        unacked_ = 0;
        send(std::move(a));
    }
    void push(MonitorEvent e) {
        {
            std::lock_guard lock(mu_);
            // bounded: squash data into the newest queued data event
            if (e.kind == MonitorEvent::Kind::Data && events_.size() >= queue_size_ &&
                events_.back().kind == MonitorEvent::Kind::Data) {
                auto& last = events_.back();
                BitSet marks = last.value.marks();
                BitSet twice = marks;
                twice &= e.value.marks();
                marks |= e.value.marks();
                last.overrun |= twice;
                last.overrun |= e.overrun;
                last.value = std::move(e.value);
                last.value.marks() = marks;
                ++squashed_;
                // the squashed update was consumed from the server's point of view
                if (pipeline_) note_consumed(1);
            } else {
                events_.push_back(std::move(e));
            }
        }
        cv_.notify_all();
        if (notify_) post_notify();
    }
    // The notify callback runs once after the frames at hand are handled, not once per event:
    // a consumer woken by it finds the whole batch (one wake-up instead of several).
    void post_notify() {
        if (!post_once(&MonitorOp::notify_posted_, [](MonitorOp& me) { me.notify_(); })) notify_();
    }
    void add_pipeline_option() { set_option("pipeline", "true"); }
    void add_queue_option() { set_option("queueSize", std::to_string(queue_size_)); }
    void set_option(const std::string& key, const std::string& value) {
        // rebuild the request with the option added, through the text form
        std::string text = protocol::pv_request_text(pv_request_);
        const auto pos = text.find("record[");
        if (pos == std::string::npos) text += "record[" + key + "=" + value + "]";
        else text.insert(pos + 7, key + "=" + value + ",");
        std::string err;
        Value v = protocol::parse_pv_request(text, &err);
        if (v) pv_request_ = v;
    }

    MonitorOptions mopts_;
    std::function<void()> notify_;
    std::string name_;
    std::uint32_t queue_size_ = 4, ack_any_ = 2, unacked_ = 0;
    bool pipeline_ = true;
    TypePtr type_;
    Value current_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<MonitorEvent> events_;  // swapped with the consumer's vector by pop()
    std::atomic<std::uint64_t> updates_{0}, squashed_{0};
    std::atomic<std::uint32_t> consumed_pending_{0};
    std::atomic<bool> ack_posted_{false};
    std::atomic<bool> notify_posted_{false};
};

// The handle users hold: dropping it stops the monitor.
class SubscriptionHandle : public Subscription {
public:
    explicit SubscriptionHandle(std::shared_ptr<MonitorOp> op) : op_(std::move(op)) {}
    ~SubscriptionHandle() override {
        if (auto ctx = ctx_of()) asio::post(ctx->strand_, [op = op_] { op->stop(); });
    }
    std::vector<MonitorEvent> pop() override { return op_->pop(); }
    std::size_t pop(std::vector<MonitorEvent>& out) override { return op_->pop(out); }
    std::vector<MonitorEvent> wait(std::chrono::milliseconds t) override { return op_->wait(t); }
    std::uint64_t updates() const override { return op_->updates(); }
    std::uint64_t squashed() const override { return op_->squashed(); }
    const std::string& name() const override { return op_->name(); }
    std::shared_ptr<Context::Impl> ctx_of() const { return ctx_; }
    std::shared_ptr<Context::Impl> ctx_;

private:
    std::shared_ptr<MonitorOp> op_;
};

}  // namespace

std::shared_ptr<ClientOp> make_get(std::shared_ptr<ChannelImpl> ch, OpOptions o, Context::Completion c) {
    return std::make_shared<GetOp>(std::move(ch), 0x0A, std::move(o), std::move(c));
}
std::shared_ptr<ClientOp> make_put(std::shared_ptr<ChannelImpl> ch, Value v, std::vector<std::pair<std::string, std::string>> f,
                                   OpOptions o, Context::Completion c) {
    return std::make_shared<PutOp>(std::move(ch), std::move(v), std::move(f), std::move(o), std::move(c));
}
std::shared_ptr<ClientOp> make_put_get(std::shared_ptr<ChannelImpl> ch, Value v, OpOptions o, Context::Completion c) {
    return std::make_shared<PutGetOp>(std::move(ch), std::move(v), std::move(o), std::move(c));
}
std::shared_ptr<ClientOp> make_rpc(std::shared_ptr<ChannelImpl> ch, Value v, OpOptions o, Context::Completion c) {
    return std::make_shared<RpcOp>(std::move(ch), std::move(v), std::move(o), std::move(c));
}
std::shared_ptr<ClientOp> make_info(std::shared_ptr<ChannelImpl> ch, std::string sub, OpOptions o, Context::Completion c) {
    return std::make_shared<InfoOp>(std::move(ch), std::move(sub), std::move(o), std::move(c));
}
std::shared_ptr<ClientOp> make_process(std::shared_ptr<ChannelImpl> ch, OpOptions o, Context::Completion c) {
    return std::make_shared<ProcessOp>(std::move(ch), 0x10, std::move(o), std::move(c));
}
std::shared_ptr<ClientOp> make_array(std::shared_ptr<ChannelImpl> ch, Context::ArrayAction a, OpOptions o,
                                     Context::Completion c) {
    return std::make_shared<ArrayOp>(std::move(ch), std::move(a), std::move(o), std::move(c));
}

std::shared_ptr<Subscription> make_monitor(std::shared_ptr<ChannelImpl> ch, MonitorOptions o, std::function<void()> notify) {
    auto op = std::make_shared<MonitorOp>(ch, std::move(o), std::move(notify));
    auto handle = std::make_shared<SubscriptionHandle>(op);
    handle->ctx_ = ch->context();
    ch->keep(op);  // restarted on every (re)connection
    if (ch->state() == Channel::State::Connected) op->begin();
    return handle;
}

// ---- Context entry points ---------------------------------------------------------------------------

namespace {
template <class Make>
void run_op(const std::shared_ptr<Context::Impl>& impl, std::string name, std::string server, Make make) {
    asio::dispatch(impl->strand_, [impl, name = std::move(name), server = std::move(server), make = std::move(make)]() mutable {
        auto ch = impl->op_channel(name, server);
        if (auto op = make(ch)) op->begin();  // null: an existing operation took it over
    });
}
}  // namespace

void Context::start_get(std::string name, OpOptions o, Completion c) {
    auto server = o.server;  // before `o` is moved into the lambda
    run_op(impl_, std::move(name), std::move(server), [o = std::move(o), c = std::move(c)](auto ch) mutable -> std::shared_ptr<ClientOp> {
        if (auto parked = ch->take_parked("get:" + o.request)) {
            parked->again(std::move(o), std::move(c));
            return nullptr;
        }
        return make_get(std::move(ch), std::move(o), std::move(c));
    });
}
void Context::start_put(std::string name, Value v, std::vector<std::pair<std::string, std::string>> fields, OpOptions o,
                        Completion c) {
    auto server = o.server;  // before `o` is moved into the lambda
    run_op(impl_, std::move(name), std::move(server),
           [v = std::move(v), f = std::move(fields), o = std::move(o), c = std::move(c)](auto ch) mutable -> std::shared_ptr<ClientOp> {
               if (auto parked = ch->take_parked("put:" + o.request)) {
                   parked->again_put(std::move(v), std::move(f), std::move(o), std::move(c));
                   return nullptr;
               }
               return make_put(std::move(ch), std::move(v), std::move(f), std::move(o), std::move(c));
           });
}
void Context::start_put_get(std::string name, Value v, OpOptions o, Completion c) {
    auto server = o.server;  // before `o` is moved into the lambda
    run_op(impl_, std::move(name), std::move(server), [v = std::move(v), o = std::move(o), c = std::move(c)](auto ch) mutable {
        return make_put_get(std::move(ch), std::move(v), std::move(o), std::move(c));
    });
}
void Context::start_rpc(std::string name, Value arg, OpOptions o, Completion c) {
    auto server = o.server;  // before `o` is moved into the lambda
    run_op(impl_, std::move(name), std::move(server), [a = std::move(arg), o = std::move(o), c = std::move(c)](auto ch) mutable {
        return make_rpc(std::move(ch), std::move(a), std::move(o), std::move(c));
    });
}
void Context::start_info(std::string name, std::string sub, OpOptions o, Completion c) {
    auto server = o.server;  // before `o` is moved into the lambda
    run_op(impl_, std::move(name), std::move(server), [s = std::move(sub), o = std::move(o), c = std::move(c)](auto ch) mutable {
        return make_info(std::move(ch), std::move(s), std::move(o), std::move(c));
    });
}
void Context::start_process(std::string name, OpOptions o, Completion c) {
    auto server = o.server;  // before `o` is moved into the lambda
    run_op(impl_, std::move(name), std::move(server), [o = std::move(o), c = std::move(c)](auto ch) mutable {
        return make_process(std::move(ch), std::move(o), std::move(c));
    });
}
void Context::start_array(std::string name, ArrayAction a, OpOptions o, Completion c) {
    auto server = o.server;  // before `o` is moved into the lambda
    run_op(impl_, std::move(name), std::move(server), [a = std::move(a), o = std::move(o), c = std::move(c)](auto ch) mutable {
        return make_array(std::move(ch), std::move(a), std::move(o), std::move(c));
    });
}

namespace {
// The handle of get_op/put_op/rpc_op: dropping it cancels the operation if still running.
class OperationHandle : public Operation {
public:
    OperationHandle(std::shared_ptr<Context::Impl> ctx) : ctx_(std::move(ctx)) {}
    ~OperationHandle() override { cancel(); }
    void cancel() override {
        asio::post(ctx_->strand_, [op = op_] {
            if (auto o = op->lock()) o->cancel();
        });
    }
    std::shared_ptr<std::weak_ptr<ClientOp>> op_ = std::make_shared<std::weak_ptr<ClientOp>>();

private:
    std::shared_ptr<Context::Impl> ctx_;
};

template <class Make>
std::shared_ptr<Operation> start_handle(const std::shared_ptr<Context::Impl>& impl, std::string name,
                                        std::string server, Make make) {
    auto h = std::make_shared<OperationHandle>(impl);
    asio::dispatch(impl->strand_, [impl, name = std::move(name), server = std::move(server), make = std::move(make),
                                   slot = h->op_]() mutable {
        auto op = make(impl->op_channel(name, server));
        *slot = op;
        op->begin();
    });
    return h;
}
}  // namespace

std::shared_ptr<Operation> Context::get_op(std::string name, OpOptions o, Completion c) {
    auto server = o.server;  // before `o` is moved into the lambda
    return start_handle(impl_, std::move(name), std::move(server), [o = std::move(o), c = std::move(c)](auto ch) mutable {
        return make_get(std::move(ch), std::move(o), std::move(c));
    });
}
std::shared_ptr<Operation> Context::put_op(std::string name, std::vector<std::pair<std::string, std::string>> fields,
                                           OpOptions o, Completion c) {
    auto server = o.server;  // before `o` is moved into the lambda
    return start_handle(impl_, std::move(name), std::move(server), [f = std::move(fields), o = std::move(o), c = std::move(c)](auto ch) mutable {
        return make_put(std::move(ch), Value(), std::move(f), std::move(o), std::move(c));
    });
}
std::shared_ptr<Operation> Context::rpc_op(std::string name, Value arg, OpOptions o, Completion c) {
    auto server = o.server;  // before `o` is moved into the lambda
    return start_handle(impl_, std::move(name), std::move(server), [a = std::move(arg), o = std::move(o), c = std::move(c)](auto ch) mutable {
        return make_rpc(std::move(ch), std::move(a), std::move(o), std::move(c));
    });
}

std::shared_ptr<Subscription> Context::monitor(std::string name, MonitorOptions options, std::function<void()> notify) {
    std::promise<std::shared_ptr<Subscription>> made;
    auto fut = made.get_future();
    asio::dispatch(impl_->strand_, [impl = impl_, &name, &options, &notify, &made] {
        auto ch = impl->op_channel(name, options.server);
        made.set_value(make_monitor(std::move(ch), std::move(options), std::move(notify)));
    });
    return fut.get();
}

namespace {
Result wait_result(std::future<std::pair<std::error_code, Result>> f, const std::string& name) {
    auto [ec, r] = f.get();
    if (ec) throw Error(ec, name + ": " + describe(ec, r));
    return r;
}
template <class Start> std::future<std::pair<std::error_code, Result>> blocking(Start start) {
    auto p = std::make_shared<std::promise<std::pair<std::error_code, Result>>>();
    auto f = p->get_future();
    start([p](std::error_code ec, Result r) { p->set_value({ec, std::move(r)}); });
    return f;
}
}  // namespace

Result Context::get(const std::string& name, OpOptions o) {
    return wait_result(blocking([&](Completion c) { start_get(name, o, std::move(c)); }), name);
}
void Context::put(const std::string& name, std::vector<std::pair<std::string, std::string>> fields, OpOptions o) {
    wait_result(blocking([&](Completion c) { start_put(name, Value(), std::move(fields), o, std::move(c)); }), name);
}
Result Context::rpc(const std::string& name, Value argument, OpOptions o) {
    return wait_result(blocking([&](Completion c) { start_rpc(name, std::move(argument), o, std::move(c)); }), name);
}
TypePtr Context::info(const std::string& name, OpOptions o) {
    return wait_result(blocking([&](Completion c) { start_info(name, "", o, std::move(c)); }), name).type;
}

}  // namespace pvwire::client
