/// @file
/// Server GUIDs (protocol.md §2.6): 12 bytes that name one server instance in beacons and
/// search responses. Clients compare them to notice a restarted server, so two instances must
/// not share one, including replicas started from the same container image at the same time.
#pragma once

#include <pvwire/wire/basic_types.hpp>

namespace pvwire::net {

/// A fresh GUID: std::random_device output mixed with the host identity (gethostname, and the
/// HOSTNAME environment variable when set, which is the pod name under Kubernetes), the PID,
/// a per-process counter and the wall and monotonic clocks, hashed (FNV-1a, then splitmix64
/// finalisation) into 12 bytes. Every call returns a different value; thread-safe.
wire::Guid make_guid();

}  // namespace pvwire::net
