// The PV as a web connection sees it when writing from the web is off
// (ServerConfig::web_write): reads and subscriptions pass through, puts, RPC and PROCESS are
// refused with "writing from the web is disabled on this server", and it is not writable.
// RPC and PROCESS count as writes: either may change what a PV or its IOC does.
#pragma once

#include "pvws_front_end.hpp"

#include <pvwire/server/source.hpp>

namespace pvwire::server::detail {

class WebReadOnlyPV final : public PVHandler {
public:
    explicit WebReadOnlyPV(std::shared_ptr<PVHandler> pv) : pv_(std::move(pv)) {}
    TypePtr type() const override { return pv_->type(); }
    Value current() const override { return pv_->current(); }
    void put(Value, const Peer&, Done done) override { done(refusal()); }
    std::shared_ptr<void> subscribe(Listener listener) override { return pv_->subscribe(std::move(listener)); }
    Feeder feeder(const Peer& peer) override { return pv_->feeder(peer); }
    void rpc(Value, const Peer&, ResultDone done) override { done(refusal(), Value()); }
    void process(const Peer&, Done done) override { done(refusal()); }
    bool writable(const Peer&) const override { return false; }
    std::optional<AsgAssignment> access_group() const override { return pv_->access_group(); }

private:
    static wire::Status refusal() { return wire::Status::error(std::string(web_write_disabled)); }
    std::shared_ptr<PVHandler> pv_;
};

}  // namespace pvwire::server::detail
