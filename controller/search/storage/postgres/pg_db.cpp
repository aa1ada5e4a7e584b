#include "controller/search/storage/postgres/pg_db.h"

#include <poll.h>
#include <sys/socket.h>

#include <fmt/format.h>
#include <libpq-fe.h>

#include <charconv>
#include <cmath>

namespace nos::search::pg {
namespace {

// libpq's messages end in a newline and may span lines ("...failed: Connection refused\n\tIs the
// server running ..."): one line for a StorageError.
std::string one_line(std::string_view message) {
  std::string out;
  for (char c : message) {
    if (c == '\n' || c == '\t' || c == '\r') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Whether an error means the session is gone rather than the statement failed: connection
// exceptions (class 08), the server shutting down or ending the session (57P01 admin shutdown,
// 57P02 crash shutdown, 57P03 cannot connect now: starting up), or libpq's own view.
bool is_connection_loss(pg_conn* conn, std::string_view sqlstate) {
  return PQstatus(conn) == CONNECTION_BAD || sqlstate.starts_with("08") || sqlstate == "57P01" ||
         sqlstate == "57P02" || sqlstate == "57P03";
}

// Notices (a NOTICE of CREATE TABLE, a WARNING) are not errors; the storage's messages say what matters.
void ignore_notice(void*, const char*) {}

}  // namespace

// ---- Params ---------------------------------------------------------------------------------------

Params& Params::add(std::int64_t value) { return add(std::string_view(std::to_string(value))); }

Params& Params::add(double value) {
  // Shortest text that reads back as the same double; PostgreSQL's spellings of the special values.
  if (std::isnan(value)) return add(std::string_view("NaN"));
  if (std::isinf(value)) return add(std::string_view(value > 0 ? "Infinity" : "-Infinity"));
  return add(std::string_view(fmt::format("{}", value)));
}

Params& Params::add(std::string_view text) {
  values_.emplace_back(text);
  null_.push_back(false);
  formats_.push_back(0);
  return *this;
}

Params& Params::add(const std::optional<double>& value) { return value ? add(*value) : add_null(); }
Params& Params::add(const std::optional<std::int64_t>& value) { return value ? add(*value) : add_null(); }

Params& Params::add_bytes(std::string_view bytes) {
  values_.emplace_back(bytes);
  null_.push_back(false);
  formats_.push_back(1);  // binary: the bytes as they are, NUL included
  return *this;
}

Params& Params::add_null() {
  values_.emplace_back();
  null_.push_back(true);
  formats_.push_back(0);
  return *this;
}

std::vector<const char*> Params::value_pointers() const {
  std::vector<const char*> out;
  for (size_t i = 0; i < values_.size(); ++i) out.push_back(null_[i] ? nullptr : values_[i].data());
  return out;
}

std::vector<int> Params::lengths() const {
  std::vector<int> out;
  for (const std::string& v : values_) out.push_back(static_cast<int>(v.size()));
  return out;
}

// ---- Result ---------------------------------------------------------------------------------------

Result::~Result() { PQclear(result_); }

int Result::rows() const { return PQntuples(result_); }

std::int64_t Result::affected() const {
  const char* n = PQcmdTuples(result_);
  return n && *n ? std::stoll(n) : 0;
}

bool Result::is_null(int row, int column) const { return PQgetisnull(result_, row, column) == 1; }

std::string Result::text(int row, int column) const {
  return std::string(PQgetvalue(result_, row, column), PQgetlength(result_, row, column));
}

std::int64_t Result::integer(int row, int column) const {
  std::string_view v(PQgetvalue(result_, row, column), PQgetlength(result_, row, column));
  std::int64_t out = 0;
  std::from_chars(v.data(), v.data() + v.size(), out);
  return out;
}

double Result::real(int row, int column) const {
  // float8's text output is the shortest exact form (extra_float_digits = 1, the default), so the
  // value reads back bit for bit; from_chars ignores the locale.
  std::string_view v(PQgetvalue(result_, row, column), PQgetlength(result_, row, column));
  if (v == "Infinity") return HUGE_VAL;
  if (v == "-Infinity") return -HUGE_VAL;
  if (v == "NaN") return std::nan("");
  double out = 0;
  std::from_chars(v.data(), v.data() + v.size(), out);
  return out;
}

std::string Result::bytes(int row, int column) const {
  size_t length = 0;
  unsigned char* decoded =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(result_, row, column)), &length);
  if (!decoded) throw StorageError("out of memory decoding a bytea value");
  std::string out(reinterpret_cast<const char*>(decoded), length);
  PQfreemem(decoded);
  return out;
}

std::optional<double> Result::optional_real(int row, int column) const {
  return is_null(row, column) ? std::nullopt : std::optional<double>(real(row, column));
}

std::optional<std::int64_t> Result::optional_integer(int row, int column) const {
  return is_null(row, column) ? std::nullopt : std::optional<std::int64_t>(integer(row, column));
}

// ---- Connection -----------------------------------------------------------------------------------

Connection::Connection(const std::string& url) : name_(mask_password(url)) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &error);
  if (!parsed) {
    std::string message = error ? one_line(error) : "out of memory";
    PQfreemem(error);
    throw StorageError(fmt::format("{}: not a valid PostgreSQL URL: {}", name_, message));
  }
  PQconninfoFree(parsed);
  // Defaults the URL may override (it comes last): a server that does not answer is an error after
  // 10 s, not a hang, and the server's activity view names the program.
  const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"10", "nos-search", url.c_str(), nullptr};
  conn_ = PQconnectdbParams(keywords, values, 1);
  if (!conn_) throw StorageError(fmt::format("{}: cannot connect: out of memory", name_));
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string message = one_line(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    throw StorageError(fmt::format("{}: cannot connect: {}", name_, message));
  }
  PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
}

Connection::~Connection() { PQfinish(conn_); }

std::string Connection::reconnect() {
  PQreset(conn_);
  if (PQstatus(conn_) == CONNECTION_OK) {
    PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
    return "";
  }
  std::string message = one_line(PQerrorMessage(conn_));
  return message.empty() ? "cannot connect" : message;
}

bool Connection::wait_for_notification(double seconds) {
  auto consume = [&] {
    bool any = false;
    if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) == CONNECTION_BAD) {
      std::string message = one_line(PQerrorMessage(conn_));
      throw Error(fmt::format("{}: the connection to the server was lost (waiting for work): {}", name_, message), "",
                  true)
          .with_reason(message);
    }
    while (PGnotify* n = PQnotifies(conn_)) {
      any = true;
      PQfreemem(n);
    }
    return any;
  };
  if (consume()) return true;
  int socket = PQsocket(conn_);
  if (socket < 0) throw Error(fmt::format("{}: the connection to the server was lost (waiting for work)", name_), "", true)
      .with_reason("no socket");
  pollfd fd{socket, POLLIN, 0};
  int ms = static_cast<int>(std::max(0.0, seconds) * 1000);
  if (::poll(&fd, 1, ms) <= 0) return false;
  return consume();
}

Result Connection::exec(std::string_view sql, const Params& params) {
  std::string text(sql);
  std::vector<const char*> values = params.value_pointers();
  std::vector<int> lengths = params.lengths();
  PGresult* raw = PQexecParams(conn_, text.c_str(), params.size(), nullptr, values.data(), lengths.data(),
                               params.formats().data(), 0);
  ExecStatusType status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (lose_commit_ack_ && text == "COMMIT" && status == PGRES_COMMAND_OK) {
    lose_commit_ack_ = false;
    PQclear(raw);
    ::shutdown(PQsocket(conn_), SHUT_RDWR);  // the session ends; libpq sees a broken connection next
    throw Error(fmt::format("{}: the connection to the server was lost (COMMIT): the acknowledgement was lost (a test's "
                            "fault injection)",
                            name_),
                "", true)
        .with_reason("the acknowledgement of COMMIT was lost");
  }
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Result(raw);
  std::string sqlstate, message;
  if (raw) {
    const char* code = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
    sqlstate = code ? code : "";
    message = one_line(PQresultErrorMessage(raw));
    PQclear(raw);
  }
  if (message.empty()) message = one_line(PQerrorMessage(conn_));
  std::string what = text.substr(0, 60);
  if (is_connection_loss(conn_, sqlstate))
    throw Error(fmt::format("{}: the connection to the server was lost ({}): {}", name_, what, message), sqlstate, true)
        .with_reason(message);
  throw Error(fmt::format("{}: running '{}': {}", name_, what, message), sqlstate).with_reason(message);
}

}  // namespace nos::search::pg
