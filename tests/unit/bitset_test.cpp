// BitSet: the changed/overrun masks of partial values (protocol.md §2.3, §3.5).
#include <pvwire/data/bitset.hpp>

#include <catch2/catch.hpp>

using pvwire::BitSet;

namespace Catch {
template <> struct StringMaker<pvwire::BitSet> {
    static std::string convert(const pvwire::BitSet& b) { return b.to_string(); }
};
}  // namespace Catch

TEST_CASE("a new BitSet is empty and has no wire bytes") {
    BitSet b;
    CHECK(b.empty());
    CHECK(b.count() == 0);
    CHECK(b.wire_bytes() == 0);
    CHECK(b.next(0) == BitSet::npos);
    CHECK_FALSE(b.test(0));
    CHECK_FALSE(b.test(1000));
    CHECK(b.to_string() == "{}");
}

TEST_CASE("set bits test true and only those") {
    BitSet b;
    b.set(0);
    b.set(5);
    b.set(64);
    b.set(200);
    CHECK(b.test(0));
    CHECK(b[5]);
    CHECK(b.test(64));
    CHECK(b.test(200));
    CHECK_FALSE(b.test(1));
    CHECK_FALSE(b.test(63));
    CHECK_FALSE(b.test(199));
    CHECK_FALSE(b.test(201));
    CHECK(b.count() == 4);
    CHECK_FALSE(b.empty());
}

TEST_CASE("the initializer list constructor sets the listed bits") {
    BitSet b{1, 3, 70};
    CHECK(b.to_string() == "{1, 3, 70}");
    CHECK(b.count() == 3);
}

TEST_CASE("reset and set(bit, false) clear a bit, also past the end without growing") {
    BitSet b{2, 9};
    b.reset(2);
    b.set(9, false);
    CHECK(b.empty());
    b.set(500, false);
    CHECK(b.words().size() == 1);
    b.reset(1000);
    CHECK(b.words().size() == 1);
}

TEST_CASE("next walks the set bits in increasing order across words") {
    BitSet b{3, 63, 64, 130};
    CHECK(b.next(0) == 3);
    CHECK(b.next(3) == 3);
    CHECK(b.next(4) == 63);
    CHECK(b.next(64) == 64);
    CHECK(b.next(65) == 130);
    CHECK(b.next(131) == BitSet::npos);
    CHECK(b.next(10000) == BitSet::npos);
}

TEST_CASE("set_range, reset_range and any_in work on half-open ranges") {
    BitSet b;
    b.set_range(2, 6);
    CHECK(b.to_string() == "{2, 3, 4, 5}");
    b.reset_range(3, 5);
    CHECK(b.to_string() == "{2, 5}");
    CHECK(b.any_in(0, 3));
    CHECK_FALSE(b.any_in(3, 5));
    CHECK(b.any_in(5, 6));
    CHECK_FALSE(b.any_in(6, 100));
    b.reset_range(0, 1000);  // past the storage is fine
    CHECK(b.empty());
}

TEST_CASE("wire_bytes counts bytes up to the highest set bit") {
    CHECK(BitSet{0}.wire_bytes() == 1);
    CHECK(BitSet{7}.wire_bytes() == 1);
    CHECK(BitSet{8}.wire_bytes() == 2);
    CHECK(BitSet{1, 9}.wire_bytes() == 2);
    CHECK(BitSet{63}.wire_bytes() == 8);
    CHECK(BitSet{64}.wire_bytes() == 9);
    CHECK(BitSet{0, 129}.wire_bytes() == 17);
}

TEST_CASE("wire_bytes ignores cleared high words") {
    BitSet b{3, 300};
    b.reset(300);
    CHECK(b.wire_bytes() == 1);
    b.reset(3);
    CHECK(b.wire_bytes() == 0);
}

TEST_CASE("clear empties the set but keeps its storage") {
    BitSet b{1, 100};
    const auto words = b.words().size();
    b.clear();
    CHECK(b.empty());
    CHECK(b.words().size() == words);
}

TEST_CASE("equality ignores trailing zero words") {
    BitSet a{1, 5};
    BitSet b{1, 5, 300};
    CHECK_FALSE(a == b);
    b.reset(300);
    CHECK(a == b);
    CHECK(b == a);
    CHECK(BitSet{} == BitSet{});
    BitSet c;
    c.set(1000);
    c.reset(1000);
    CHECK(c == BitSet{});
    CHECK_FALSE(BitSet{1} == BitSet{2});
}

TEST_CASE("|= unites two sets and grows to the longer one") {
    BitSet a{1};
    const BitSet b{2, 130};
    a |= b;
    CHECK(a.to_string() == "{1, 2, 130}");
    BitSet c{200};
    c |= BitSet{0};
    CHECK(c.to_string() == "{0, 200}");
}

TEST_CASE("&= keeps only the common bits") {
    BitSet a{1, 2, 130};
    a &= BitSet{2, 3};
    CHECK(a.to_string() == "{2}");
}
