// The write script of RedisStore, shared with pvwire-bench notify (which measures the same write
// announced on a stream instead of pub/sub). Private to src/store and benchmarks.
#pragma once

#include <string>
#include <string_view>

namespace pvwire::store::detail {

/// The Lua statement with which RedisStore announces a write: PUBLISH on the updates channel
/// (KEYS[2]) of "name NUL incarnation NUL version NUL change".
inline constexpr std::string_view publish_change =
    "redis.call('PUBLISH', KEYS[2], ARGV[1] .. '\\0' .. ARGV[2] .. '\\0' .. v .. '\\0' .. ARGV[3])";

/// The write script with `announce` (a Lua statement that may use the new version `v`) as its
/// announcement. KEYS: channel hash, updates channel (or stream). ARGV: name, incarnation, the
/// change (a msgpack partial document), then the leaves as field, value pairs. It checks the
/// incarnation, writes the leaves, bumps the version, announces, and returns the version.
inline std::string write_script(std::string_view announce = publish_change) {
    std::string s = R"lua(
if redis.call('HGET', KEYS[1], '#inc') ~= ARGV[2] then
  return redis.error_reply('GONE channel ' .. ARGV[1] .. ' was deleted or recreated')
end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
local v = redis.call('HINCRBY', KEYS[1], '#ver', 1)
)lua";
    s.append(announce);
    s.append("\nreturn v\n");
    return s;
}

}  // namespace pvwire::store::detail
