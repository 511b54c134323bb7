/// @file
/// AccessRules: who may read, write and call which PV, from an EPICS Access Security File
/// (ACF: UAG, HAG, ASG, RULE, with the Secure PVAccess predicates METHOD, AUTHORITY and
/// PROTOCOL) and an optional pattern list in the CA gateway's ".pvlist" form that maps PV
/// names to access security groups. docs/security.md, "Access rules", describes the syntax and
/// the semantics.
///
/// Threading and lifetime: an AccessRules is immutable once made; every member function is
/// const and safe to call from any thread at once. Share it as
/// `std::shared_ptr<const AccessRules>`; to reload, make a new one and swap the pointer
/// (a file with an error throws and leaves the old rules in use). Loading may block: host
/// names in HAGs are resolved when the rules are made, never when they are checked.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pvwire::server {

/// Why an ACF or pattern list was refused, as a whole: the first error, with where it is.
/// what() reads "FILE:LINE:COLUMN: message", for example
/// `/etc/pv.acf:12:13: unknown UAG "opers" (no UAG(opers) in this file)`.
class AccessRulesError : public std::runtime_error {
public:
    /// An error at `line` and `column` (both from 1; column 0 when the whole line is meant)
    /// of `source` (a file name, or the label given for a text).
    AccessRulesError(std::string source, int line, int column, const std::string& message);
    /// The file name or label of the text that is wrong.
    const std::string& source() const noexcept { return source_; }
    /// The line of the error, from 1.
    int line() const noexcept { return line_; }
    /// The column (byte) of the error on its line, from 1; 0 when the whole line is meant.
    int column() const noexcept { return column_; }
    /// What is wrong, without the place.
    const std::string& message() const noexcept { return message_; }

private:
    std::string source_;
    int line_;
    int column_;
    std::string message_;
};

/// The transport a client came over, as RULE's PROTOCOL("TCP"|"TLS") names it.
enum class Protocol { tcp, tls };

/// Who is asking, as the server established it (never what the client merely claims about its
/// host). The server fills it once per connection.
struct ClientIdentity {
    /// The account: the "ca" method's user name, the certificate's subject CN under "x509",
    /// "" for "anonymous". Compared case-sensitively with UAG entries.
    std::string user;
    /// The peer's IP address from the socket, "10.0.0.5" or "::1" (a port suffix,
    /// "10.0.0.5:40222" or "[::1]:40222", is ignored). HAGs match on this address.
    std::string address;
    /// The peer address's host name if the server resolved it (reverse DNS), else "". Used in
    /// messages only: HAG matching is by address, since a reverse record is the client's to set.
    std::string host_name;
    /// "anonymous", "ca" or "x509", as RULE's METHOD names them.
    std::string method = "anonymous";
    /// "x509": the common name (CN) of the certificate's issuer, as RULE's AUTHORITY names it.
    std::string authority;
    /// TCP (plain) or TLS.
    Protocol protocol = Protocol::tcp;
    /// Groups of the user known to the server (for example from SO_PEERCRED on a UNIX
    /// socket); a UAG entry "role/NAME" matches a client with the role NAME.
    std::vector<std::string> roles;
};

/// What a client may do on a PV. `write` implies `read` (every keyword that grants write
/// grants read too); `rpc` is separate, as in p4p's gateway.
struct AccessRights {
    bool read = false;   ///< get, monitor, get-field
    bool write = false;  ///< put, put-get, process
    bool rpc = false;    ///< rpc
    /// Same rights.
    bool operator==(const AccessRights&) const = default;
};

/// The kinds of request a rule can allow: what the server checks per operation. Suggested
/// mapping: get/monitor/get-field/array get -> read; put/put-get/process/array put and set
/// length -> write; rpc -> rpc.
enum class Operation { read, write, rpc };

/// The answer of AccessRules::check(): the rights, which rule granted each, and the words for
/// a denial.
struct AccessDecision {
    AccessRights rights;        ///< what the client may do
    bool trap_write = false;    ///< a granting WRITE rule had TRAPWRITE: log the client's puts
    std::string asg;            ///< the ASG whose rules applied ("DEFAULT" when `requested` is not defined)
    std::string requested;      ///< the ASG asked for
    int asl = 0;                ///< the PV's access security level used
    std::string source;         ///< the ACF's file name or label
    int asg_line = 0;           ///< where ASG(`asg`) is defined in `source`, 0 for the implicit DEFAULT
    int read_line = 0;          ///< line of the first RULE that granted read, 0 if none did
    int write_line = 0;         ///< line of the first RULE that granted write, 0 if none did
    int rpc_line = 0;           ///< line of the first RULE that granted rpc, 0 if none did
    std::string client;         ///< the client in words, for messages: `user "bob" at 10.0.0.5 (ca, TCP)`

    /// Whether `op` is allowed.
    bool allows(Operation op) const noexcept;
    /// The line of the RULE that grants `op`, 0 when it is denied.
    int granted_by(Operation op) const noexcept;
    /// "" when `op` is allowed; otherwise a one-line reason for the client's status, naming the
    /// ASG and its place, e.g. `put denied by ASG(ops) at /etc/pv.acf:14: no RULE grants WRITE
    /// at ASL 0 to user "bob" at 10.0.0.5 (ca, TCP)`.
    std::string denial(Operation op) const;
};

/// Which ASG and ASL a PV name gets from the pattern list (AccessRules::asg_for()).
struct AsgAssignment {
    bool allowed = true;        ///< false: the list DENYs the name, or no ALLOW line matches it
    std::string asg = "DEFAULT";  ///< the access security group (meaningful when allowed)
    int asl = 0;                ///< the access security level (meaningful when allowed)
    int line = 0;               ///< the pattern line that decided, 0 when there is no pattern list
};

/// Resolves a host name to its IP addresses as text ("10.0.0.5", "::1"); empty when the name
/// does not resolve. Used for HAG entries when the rules are made.
using HostResolver = std::function<std::vector<std::string>(const std::string& host)>;

/// How AccessRules::parse() reads its texts.
struct AccessRulesOptions {
    std::string acf_name = "<acf>";        ///< how messages name the ACF text
    std::optional<std::string> pvlist;     ///< pattern lines; nullopt: no list (every name gets DEFAULT, ASL 0)
    std::string pvlist_name = "<pvlist>";  ///< how messages name the pattern list
    HostResolver resolve;                  ///< empty: the system resolver (getaddrinfo)
};

/// An ACF and an optional pattern list, parsed, checked and ready to answer (see the file's
/// description for threading; docs/security.md for the syntax).
class AccessRules {
public:
    /// Reads `acf_text` (and `options.pvlist`). Throws AccessRulesError on the first error of
    /// either text; nothing is kept of a text with an error.
    static std::shared_ptr<const AccessRules> parse(std::string_view acf_text,
                                                    const AccessRulesOptions& options = {});
    /// Reads the ACF at `acf_path` and, unless `pvlist_path` is empty, the pattern list there.
    /// Throws AccessRulesError (an unreadable file too, with line 0).
    static std::shared_ptr<const AccessRules> load_file(const std::string& acf_path,
                                                        const std::string& pvlist_path = {},
                                                        HostResolver resolve = {});

    /// The rights of `who` on a PV of group `asg` (DEFAULT's rules when `asg` is not defined)
    /// at access security level `asl`. It formats the client's description, so call it once
    /// per channel (and again after a reload), and ask the decision per operation.
    AccessDecision check(std::string_view asg, int asl, const ClientIdentity& who) const;
    /// The pattern list's answer for `pv_name`: whether it may be served, and its ASG and ASL.
    /// Without a pattern list every name is allowed with DEFAULT, ASL 0.
    AsgAssignment asg_for(std::string_view pv_name) const;
    /// Whether the ACF defines ASG(`name`) (DEFAULT always exists, defined or not).
    bool has_asg(std::string_view name) const;
    /// What was accepted but deserves a look, "FILE:LINE:COLUMN: text" each: a HAG host that
    /// does not resolve, a CALC rule (never grants: CALC is not evaluated), an unknown METHOD...
    const std::vector<std::string>& warnings() const noexcept;
    /// The ACF's file name or label.
    const std::string& source() const noexcept;

    /// The parsed rules (internal; made only by parse() and load_file()).
    struct Model;
    /// Internal: use parse() or load_file().
    explicit AccessRules(std::unique_ptr<const Model> model);
    /// Frees the parsed rules.
    ~AccessRules();

private:
    std::unique_ptr<const Model> model_;
};

}  // namespace pvwire::server
