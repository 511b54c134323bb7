// The pattern list that maps PV names to access security groups: the CA gateway's ".pvlist"
// lines "PATTERN ALLOW [ASG [ASL]]", "PATTERN DENY" and "EVALUATION ORDER ALLOW, DENY" (or
// "DENY, ALLOW"), with POSIX extended regular expressions matched against the whole name, as
// the CA gateway and p4p's gateway read them. Private to the library (AccessRules is the API).
#pragma once

#include <pvwire/server/access_rules.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pvwire::server {

class PvPatternList {
public:
    /// Reads `text` (named `source` in messages); warnings (an ALLOW naming an ASG that
    /// `defined_asg` does not know) go to `warnings`. Throws AccessRulesError.
    static PvPatternList parse(std::string_view text, const std::string& source,
                               const std::function<bool(std::string_view)>& defined_asg,
                               std::vector<std::string>& warnings);

    /// The list's answer for `pv_name` (the CA gateway's: lines are tried from the last to the
    /// first; under ALLOW, DENY any matching DENY wins; else the last matching ALLOW decides;
    /// no matching ALLOW: not allowed).
    AsgAssignment lookup(std::string_view pv_name) const;

    /// One line's pattern and action (defined in pv_pattern_list.cpp).
    struct Pattern;

private:
    std::vector<std::shared_ptr<const Pattern>> patterns_;  // in file order
    bool deny_overrides_ = true;  // EVALUATION ORDER ALLOW, DENY (the default): a DENY wins
};

}  // namespace pvwire::server
