#include "search_rate_limiter.hpp"

#include <algorithm>

namespace pvwire::server::detail {

namespace {
constexpr double burst_seconds = 2.0;
}

SearchRateLimiter::SearchRateLimiter(double per_source, double total, std::size_t max_sources)
    : per_source_(per_source), total_(total), source_burst_(per_source * burst_seconds),
      total_burst_(total * burst_seconds), max_sources_(max_sources) {
    global_.tokens = total_burst_;
}

void SearchRateLimiter::refill(Bucket& b, double rate, double burst, Clock::time_point now) {
    const double seconds = std::chrono::duration<double>(now - b.refilled).count();
    if (seconds > 0) b.tokens = std::min(burst, b.tokens + seconds * rate);
    b.refilled = now;
}

void SearchRateLimiter::forget_idle(Clock::time_point now) {
    for (auto it = sources_.begin(); it != sources_.end();) {
        refill(it->second, per_source_, source_burst_, now);
        it = it->second.tokens >= source_burst_ ? sources_.erase(it) : std::next(it);
    }
}

SearchRateLimiter::Bucket* SearchRateLimiter::bucket_of(const boost::asio::ip::address& source,
                                                        Clock::time_point now) {
    if (auto it = sources_.find(source); it != sources_.end()) return &it->second;
    if (sources_.size() >= max_sources_) forget_idle(now);
    if (sources_.size() >= max_sources_) return nullptr;  // the global budget alone decides
    Bucket fresh;
    fresh.tokens = source_burst_;
    fresh.refilled = now;
    return &sources_.emplace(source, fresh).first->second;
}

SearchRateLimiter::Verdict SearchRateLimiter::admit(const boost::asio::ip::address& source, Clock::time_point now) {
    std::lock_guard lock(mu_);
    Bucket* own = nullptr;
    if (per_source_ > 0) {
        own = bucket_of(source, now);
        if (own) {
            refill(*own, per_source_, source_burst_, now);
            if (own->tokens < 1) return Verdict::source_over;
        }
    }
    if (total_ > 0) {
        refill(global_, total_, total_burst_, now);
        if (global_.tokens < 1) return Verdict::total_over;
        global_.tokens -= 1;
    }
    if (own) own->tokens -= 1;
    return Verdict::answer;
}

std::size_t SearchRateLimiter::sources() const {
    std::lock_guard lock(mu_);
    return sources_.size();
}

}  // namespace pvwire::server::detail
