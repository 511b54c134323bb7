/// @file
/// SegmentAssembler: joins the segments of one connection direction into whole messages
/// (protocol.md §1.5). Control messages may arrive between segments and pass through; any
/// other out-of-sequence segment is an error (PVXS drops the connection for it).
#pragma once

#include <pvwire/wire/header.hpp>
#include <pvwire/wire/limits.hpp>

#include <cstddef>
#include <span>
#include <vector>

namespace pvwire::wire {

/// Joins segmented messages of one direction (see the file's description).
class SegmentAssembler {
public:
    /// What push() did: a whole message is ready, a segment was stored, or the sequence is broken
    /// (`diag` says how).
    enum class Result { Complete, Pending, Error };

    /// An assembler that enforces `limits` on the joined size.
    explicit SegmentAssembler(const Limits& limits = Limits{}) : limits_(limits) {}

    /// Offers one framed message. On Complete, `header` has no segment bits and the size of the
    /// whole body, and `body` is either the input span (unsegmented) or the joined segments
    /// (valid until the next call).
    Result push(Header& header, std::span<const std::byte>& body, Diagnostic& diag) {
        if (header.is_control()) return Result::Complete;
        switch (header.segment()) {
        case Segment::None:
            if (open_) return error(diag, "an unsegmented message arrived inside a segmented one");
            return Result::Complete;
        case Segment::First:
            if (open_) return error(diag, "a first segment arrived inside a segmented message");
            open_ = true;
            command_ = header.command;
            buf_.assign(body.begin(), body.end());
            return check_size(diag) ? Result::Pending : Result::Error;
        case Segment::Middle:
        case Segment::Last:
            if (!open_) return error(diag, "a continuation segment without a first segment");
            if (header.command != command_)
                return error(diag, "a continuation segment with another command byte");
            buf_.insert(buf_.end(), body.begin(), body.end());
            if (!check_size(diag)) return Result::Error;
            if (header.segment() == Segment::Middle) return Result::Pending;
            open_ = false;
            header.flags &= std::uint8_t(~flag::segment_mask);
            header.size = std::uint32_t(buf_.size());
            body = std::span<const std::byte>(buf_.data(), buf_.size());
            return Result::Complete;
        }
        return Result::Error;
    }
    /// A segmented message has begun and not ended.
    bool in_progress() const noexcept { return open_; }
    /// Drops a message in progress.
    void reset() noexcept {
        open_ = false;
        buf_.clear();
    }

private:
    Result error(Diagnostic& d, const char* what) {
        d.code = make_error_code(errc::bad_segment);
        d.offset = 0;
        d.field = "segmentation";
        d.detail = what;
        reset();
        return Result::Error;
    }
    bool check_size(Diagnostic& d) {
        if (buf_.size() <= limits_.max_message_bytes) return true;
        d.code = make_error_code(errc::too_large);
        d.field = "segmented message";
        d.detail = "joined segments exceed " + std::to_string(limits_.max_message_bytes) + " bytes";
        reset();
        return false;
    }

    Limits limits_;
    bool open_ = false;
    std::uint8_t command_ = 0;
    std::vector<std::byte> buf_;
};

}  // namespace pvwire::wire
