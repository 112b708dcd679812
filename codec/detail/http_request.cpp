#include "mtcache/codec/detail/http_request.hpp"

#include <cctype>

namespace mtcache::detail {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view trim(std::string_view x) {
  while (!x.empty() && (x.front() == ' ' || x.front() == '\t'))
    x.remove_prefix(1);
  while (!x.empty() && (x.back() == ' ' || x.back() == '\t' || x.back() == '\r'))
    x.remove_suffix(1);
  return x;
}

// Whether a comma-separated header value holds `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    auto comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), token))
      return true;
    if (comma == std::string_view::npos)
      break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

http_parse_result bad(int& status, int code) {
  status = code;
  return http_parse_result::bad;
}

} // namespace

http_parse_result parse_http_request(std::string_view buf, http_request& req, size_t& consumed,
                                     int& status) {
  // Clients may send empty lines before a request (RFC 9112, 2.2).
  size_t start = 0;
  while (start + 1 < buf.size() && buf[start] == '\r' && buf[start + 1] == '\n')
    start += 2;
  auto end = buf.find("\r\n\r\n", start);
  if (end == std::string_view::npos)
    return buf.size() - start > max_http_head_bytes ? bad(status, 431)
                                                    : http_parse_result::incomplete;
  if (end - start > max_http_head_bytes)
    return bad(status, 431);
  auto head = buf.substr(start, end - start);
  auto line_end = head.find("\r\n");
  auto request_line = head.substr(0, line_end);
  auto sp1 = request_line.find(' ');
  auto sp2 = request_line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1 || sp1 == 0)
    return bad(status, 400);
  auto version = request_line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0")
    return bad(status, version.substr(0, 5) == "HTTP/" ? 505 : 400);
  req.method = std::string{request_line.substr(0, sp1)};
  auto target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.empty() || target.find(' ') != std::string_view::npos)
    return bad(status, 400);
  req.path = std::string{target.substr(0, target.find('?'))};
  req.keep_alive = version == "HTTP/1.1";
  auto rest = line_end == std::string_view::npos ? std::string_view{} : head.substr(line_end + 2);
  while (!rest.empty()) {
    auto eol = rest.find("\r\n");
    auto line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return bad(status, 400);
    auto name = line.substr(0, colon);
    auto value = trim(line.substr(colon + 1));
    if (iequals(name, "connection")) {
      if (has_token(value, "close"))
        req.keep_alive = false;
      else if (has_token(value, "keep-alive"))
        req.keep_alive = true;
    } else if (iequals(name, "content-length")) {
      if (value != "0")
        return bad(status, 413);
    } else if (iequals(name, "transfer-encoding")) {
      return bad(status, 411);
    }
  }
  consumed = end + 4;
  return http_parse_result::complete;
}

const char* http_reason(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 400:
    return "Bad Request";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 411:
    return "Length Required";
  case 413:
    return "Content Too Large";
  case 431:
    return "Request Header Fields Too Large";
  case 503:
    return "Service Unavailable";
  case 505:
    return "HTTP Version Not Supported";
  default:
    return "Error";
  }
}

std::string http_response(int status, std::string_view content_type, std::string_view body,
                          bool keep_alive, bool head_only) {
  std::string out;
  out.reserve(160 + (head_only ? 0 : body.size()));
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += http_reason(status);
  out += "\r\nContent-Type: ";
  out += content_type;
  out += "\r\nContent-Length: ";
  out += std::to_string(body.size());
  if (status == 405)
    out += "\r\nAllow: GET, HEAD";
  out += keep_alive ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
  if (!head_only)
    out += body;
  return out;
}

} // namespace mtcache::detail
